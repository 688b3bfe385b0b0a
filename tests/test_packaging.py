"Packaging (issue 21): `python -m codelm`, the LICENSE, the explore extra, set-up without a named package index, Python 3.10."
import ast, importlib.util, os, re, shutil, subprocess, sys
from pathlib import Path
import pytest

REPO = Path(__file__).resolve().parent.parent
PYPROJECT = (REPO/'pyproject.toml').read_text()
EXPLORE = ('jupyterlab', 'voila', 'playwright')

def check_env():
    "tools/check_env.py as a module (its checks run only as a script)."
    spec = importlib.util.spec_from_file_location('check_env', REPO/'tools'/'check_env.py')
    m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)
    return m

def test_python_m_codelm_is_the_command():
    r = subprocess.run([sys.executable, '-m', 'codelm', '--help'], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith('usage: codelm') and all(c in r.stdout for c in ('train', 'eval', 'humaneval', 'explore'))
    r = subprocess.run([sys.executable, '-m', 'codelm', 'eval', str(REPO/'no-such-run')], capture_output=True, text=True, timeout=300)
    assert r.returncode == 2 and 'Traceback' not in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr

def test_license_is_apache_2():
    assert re.search(r'^license = "Apache-2.0"$', PYPROJECT, re.M)
    text = (REPO/'LICENSE').read_text()
    assert text.split()[:4] == ['Apache', 'License', 'Version', '2.0,'] and 'END OF TERMS AND CONDITIONS' in text
    assert '9. Accepting Warranty or Additional Liability.' in text and len(text.splitlines()) > 170

def test_explore_packages_are_an_extra_that_setup_installs():
    reqs = check_env().requirements(PYPROJECT)
    extra = re.search(r'^explore = \[(.*)\]$', PYPROJECT, re.M).group(1)
    core = PYPROJECT[PYPROJECT.index('dependencies = ['):PYPROJECT.index('[project.optional-dependencies]')]
    for name in EXPLORE:
        assert f'"{name}' in extra and f'"{name}' not in core, name
        assert any(r.startswith(name) for r in reqs), f'check_env.py does not check {name}'
    assert "-e \".[dev,explore]\"" in (REPO/'tools'/'setup_env.sh').read_text()

def test_cli_imports_no_explore_package():
    code = 'import sys, codelm.cli; print(sorted({m.split(".")[0] for m in sys.modules} & {"jupyterlab", "voila", "playwright"}))'
    r = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0 and r.stdout.strip() == '[]', (r.stdout, r.stderr)

def test_check_env_reads_pyproject_without_tomllib(monkeypatch):
    "On Python 3.10 (no tomllib) and without tomli, the fallback reads the same requirements."
    m = check_env()
    with_toml = m.requirements(PYPROJECT)
    monkeypatch.setitem(sys.modules, 'tomllib', None); monkeypatch.setitem(sys.modules, 'tomli', None)
    assert m.requirements(PYPROJECT) == with_toml and any(r.startswith('rapidfuzz') for r in with_toml)
    toy = ('[project]\nname = "x"\ndependencies = [\n  "a>=1",  # why\n  \'b; os_name == "posix"\',\n]\n\n'
           '[project.optional-dependencies]\ndev = ["p"]\nexplore = []\n\n[tool.x]\ndev = ["not this"]\n')
    assert m.requirements(toy) == ['a>=1', 'b; os_name == "posix"', 'p']
    with pytest.raises(SystemExit, match="no array 'explore'"): m.requirements(toy.replace('explore = []\n', ''))

def test_sources_are_python_310():
    "requires-python says 3.10: no syntax or standard-library name that came later, in the package or the set-up check."
    assert re.search(r'^requires-python = ">=3.10"$', PYPROJECT, re.M)
    later = re.compile(r'^\s*(import tomllib|from tomllib)|ExceptionGroup|except\*|datetime\.UTC|typing\.Self|from typing import .*\bSelf\b|'
                       r'asyncio\.TaskGroup|enum\.StrEnum|hashlib\.file_digest|contextlib\.chdir|os\.unshare', re.M)
    for f in sorted((REPO/'codelm').glob('*.py')) + [REPO/'tools'/'check_env.py']:
        src = f.read_text()
        ast.parse(src, str(f), feature_version=(3, 10))
        assert not later.search(src), f'{f.name}: {later.search(src).group(0)!r} needs Python 3.11+'

def test_setup_names_no_package_index(tmp_path):
    "tools/setup_env.sh installs the CPU torch through pip's configured indexes plus CODELM_TORCH_INDEX; a failed install says to set it."
    script = (REPO/'tools'/'setup_env.sh').read_text()
    assert not re.search(r'\w+://', script), 'setup_env.sh names a package index'
    assert 'CODELM_TORCH_INDEX' in (REPO/'README.md').read_text()
    if shutil.which('nvidia-smi'): pytest.skip('a GPU machine: set-up takes the CUDA torch path')
    # the script in a copy of the tree, with a stand-in venv python that logs its calls and fails the torch install on demand
    (tmp_path/'tools').mkdir(); shutil.copy(REPO/'tools'/'setup_env.sh', tmp_path/'tools')
    shutil.copy(REPO/'pyproject.toml', tmp_path)
    py = tmp_path/'.venv'/'bin'/'python'; py.parent.mkdir(parents=True)
    py.write_text('#!/bin/bash\necho "$*" >> "$LOG"\ncase "$1 $2" in\n  "-c import torch"|"- ") exit 1;;\n'
                  '  "-m pip") case "$*" in *torch==*) exit $TORCH_RC;; esac;;\nesac\nexit 0\n')
    py.chmod(0o755)
    def setup(index, rc):
        log = tmp_path/'log'; log.write_text('')
        env = {**os.environ, 'LOG': str(log), 'TORCH_RC': str(rc), 'CODELM_TORCH_INDEX': index}
        r = subprocess.run(['bash', str(tmp_path/'tools'/'setup_env.sh')], capture_output=True, text=True, env=env, timeout=60)
        return r, [l for l in log.read_text().splitlines() if 'torch==' in l]
    r, torch = setup('', 0)
    assert r.returncode == 0 and torch == ['-m pip install -q torch==2.13.0+cpu'], (r.stderr, torch)
    r, torch = setup('file:///some/index', 0)
    assert r.returncode == 0 and torch == ['-m pip install -q torch==2.13.0+cpu --extra-index-url file:///some/index'], torch
    r, _ = setup('', 1)
    assert r.returncode == 1 and 'set CODELM_TORCH_INDEX' in r.stderr, r.stderr

def test_no_import_runs_back_up_the_flow():
    "Each module imports only modules whose notebooks come before its own (issue 22, point 7): the flow runs one way."
    root = Path(__file__).parent.parent
    order = {m.group(1): nb.stem for nb in sorted((root/'nbs').glob('[0-9]*.ipynb')) if (m := re.search(r'default_exp (\w+)', nb.read_text()))}
    assert {'data', 'sandbox', 'humaneval', 'cli'} <= set(order), order
    pat = re.compile(r'^\s*(?:from (?:codelm)?\.(\w+) import|from codelm import (\w+)|import codelm\.(\w+))', re.M)
    up = [(mod, dep) for mod, nb in order.items() for m in pat.finditer((root/'codelm'/f'{mod}.py').read_text())
          if (dep := next(g for g in m.groups() if g)) in order and order[dep] >= nb and dep != mod]
    assert not up, f'imports that run back up the flow (module -> module it imports): {up}'

def test_exported_cells_are_small():
    "House style (issue 22, point 7): one exported function or class a cell, short; the median exported cell is 8 code lines or fewer."
    import json, statistics
    sizes = [len([l for l in ''.join(c['source']).splitlines() if l.strip() and not l.startswith('#|')])
             for nb in sorted((REPO/'nbs').glob('*.ipynb')) for c in json.loads(nb.read_text())['cells']
             if c['cell_type'] == 'code' and ''.join(c['source']).startswith('#| export')]
    assert len(sizes) > 300 and statistics.median(sizes) <= 8, (len(sizes), statistics.median(sizes))

def test_index_lists_every_module():
    "nbs/index.ipynb (and so the README) has one line per module of the flow, in the flow's order (issue 22, point 7)."
    import re
    index = (REPO/'nbs'/'index.ipynb').read_text()
    mods = [(nb.stem, m.group(1)) for nb in sorted((REPO/'nbs').glob('[0-9]*.ipynb')) if (m := re.search(r'default_exp ([\w.]+)', nb.read_text()))]
    rows = re.findall(r'\| `(\w+)` \| `codelm\.([\w_]+)` \|', index)
    assert rows == mods, (rows, mods)
