#!/usr/bin/env bash
# One GPU check, within 10 minutes on one GPU: the cuda and slow notebook cells, the cuda-marked tests, the Triton
# forget-mult against the reference and AWD-QRNN against cuDNN's AWD-LSTM, training speed against a plain PyTorch loop,
# and a short run of the `gpu` grid. Prints the benchmarks' JSON lines and one JSON line per step (value: 1 passed,
# 0 failed); each step's log is kept in $GPU_CHECK_LOGS (default a temporary directory). Exit status: the number of
# failed steps. Without a CUDA GPU it says what it skipped and exits 0 (`make test` runs it that way).
#     bash bench/gpu_check.sh
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
BIN=$(dirname "$PY")
if ! "$PY" -c "import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)" 2>/dev/null; then
  echo "gpu_check: no CUDA GPU here; skipped: nbdev-test --flags 'cuda slow', pytest -m cuda, bench/qrnn.py --device cuda, bench/train_speed.py --device cuda, the gpu grid smoke"
  exit 0
fi
LOGS=${GPU_CHECK_LOGS:-$(mktemp -d -t gpu_check.XXXXXX)}
mkdir -p "$LOGS"
export CODELM_NO_BAR=1
failed=0
step() {  # step NAME SECONDS COMMAND...: run with a time limit, forward benchmark JSON lines, print one JSON line
  local name=$1 limit=$2; shift 2
  local t0=$SECONDS rc=0
  timeout "$limit" "$@" > "$LOGS/$name.log" 2>&1 || rc=$?
  grep -h '^{"bench"' "$LOGS/$name.log"
  [ $rc -eq 0 ] || failed=$((failed + 1))
  echo "{\"bench\": \"gpu_check_$name\", \"value\": $([ $rc -eq 0 ] && echo 1 || echo 0), \"unit\": \"passed\", \"baseline\": null, \"ratio\": null, \"exit_status\": $rc, \"seconds\": $((SECONDS - t0)), \"log\": \"$LOGS/$name.log\"}"
}
"$PY" -c "import torch; print(f'gpu_check: torch {torch.__version__}, {torch.cuda.get_device_name()}, CUDA {torch.version.cuda}')"
step notebooks 200 "$BIN/nbdev-test" --flags "cuda slow" --n_workers 8
step pytest_cuda 60 "$PY" -m pytest tests -q -m cuda
step qrnn 60 "$PY" bench/qrnn.py --device cuda
step train_speed 100 "$PY" bench/train_speed.py --device cuda --preset paper --steps 10 --rounds 1
smoke=$(mktemp -d -t gpu_grid.XXXXXX)
step gpu_grid 170 "$BIN/codelm" run --preset gpu --budget-mb 4 --runs "$smoke/runs" --report "$smoke/reports"
exit $failed
