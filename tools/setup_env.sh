#!/usr/bin/env bash
# Create .venv if missing and install codelm with its dependencies into it.
# - a torch that the base Python already has (a GPU JupyterHub image) is kept: the venv sees the system site-packages;
# - on a machine with an NVIDIA driver, pip's default torch (a CUDA build) is installed;
# - elsewhere a CPU build of torch is installed (a few hundred MB rather than several GB), from pip's configured indexes
#   (pip.conf, PIP_INDEX_URL, PIP_FIND_LINKS) and, when set, CODELM_TORCH_INDEX: an index that serves CPU builds of torch,
#   passed to pip as --extra-index-url (README.md, "Two commands").
# Then codelm with its dev and explore extras: pip install -e '.[dev,explore]'.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
VENV=${VENV:-.venv}
TORCH_CPU=${CODELM_TORCH_CPU:-2.13.0}   # must satisfy the torch bound in pyproject.toml
TORCH_INDEX=${CODELM_TORCH_INDEX:-}      # no index is named here: pip's own configuration, plus this one if set

if [ ! -x "$VENV/bin/python" ]; then
  if "$PY" -c "import torch" 2>/dev/null; then
    echo "setup: $PY already has torch $("$PY" -c 'import torch; print(torch.__version__)'); keeping it (venv sees system site-packages)"
    "$PY" -m venv --system-site-packages "$VENV"
  else
    "$PY" -m venv "$VENV"
  fi
fi
PIP="$VENV/bin/python -m pip"
$PIP install -q --upgrade pip 2>&1 | grep -v "is ignored: it is neither" || true

if ! "$VENV/bin/python" -c "import torch" 2>/dev/null; then
  if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then
    echo "setup: NVIDIA GPU found: pip's default (CUDA) torch comes with codelm's dependencies, inside pyproject.toml's bound"
  else
    echo "setup: no GPU: installing the CPU build of torch $TORCH_CPU${TORCH_INDEX:+ (also from CODELM_TORCH_INDEX=$TORCH_INDEX)}"
    if ! $PIP install -q "torch==$TORCH_CPU+cpu" ${TORCH_INDEX:+--extra-index-url "$TORCH_INDEX"} 2> >(grep -v "is ignored: it is neither" >&2); then
      echo "setup: pip could not install torch==$TORCH_CPU+cpu from its configured indexes${TORCH_INDEX:+ and CODELM_TORCH_INDEX=$TORCH_INDEX}:" \
           "set CODELM_TORCH_INDEX to a package index that serves CPU builds of torch (README.md, \"Two commands\") and run again" >&2
      exit 1
    fi
  fi
fi

# the torch installed above, or already there, stays: a dependency that pins another torch must take the release made for
# this one instead (fastai requires torchvision, and the newest torchvision pins the newest torch, on PyPI a CUDA build of
# several GB; check_env.py removes a torchvision that cannot import beside a CPU torch: codelm never imports it); a torch
# outside codelm's bound is replaced
KEEP_TORCH=$("$VENV/bin/python" - <<'PYEOF' 2>/dev/null || true
import re
from importlib.metadata import version   # not `import torch`: its own dependencies may not be installed yet
try: from packaging.specifiers import SpecifierSet; from packaging.version import Version
except ImportError: from pip._vendor.packaging.specifiers import SpecifierSet; from pip._vendor.packaging.version import Version
bound = SpecifierSet(re.search(r'"torch\s*([^";]*)"', open('pyproject.toml').read()).group(1))
v = version('torch')
if bound.contains(Version(v).base_version): print(f'torch=={v}')
PYEOF
)
case "$KEEP_TORCH" in *+cpu) export CODELM_CPU_TORCH=1;; esac   # check_env.py then fails if a CUDA build replaced it

echo "setup: installing codelm and its dependencies (pip install -e '.[dev,explore]'${KEEP_TORCH:+, keeping $KEEP_TORCH})"
$PIP install -q -e ".[dev,explore]" $KEEP_TORCH 2>&1 | grep -v "is ignored: it is neither" || true
"$VENV/bin/python" tools/check_env.py
