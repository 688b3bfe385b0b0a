"""What the tests share: `codelm` run in this process or as the installed command, and one smoke registry per session.

A new interpreter pays several seconds importing torch, fastai and transformers, so most checks of the command run it
in-process through `codelm.cli.main` (the function the console script calls: same parser, same error handling, same
exit status); each command keeps at least one check through the real console script in a new process."""
import contextlib, io, os, shutil, subprocess, sys
from dataclasses import dataclass
from pathlib import Path
import pytest

os.environ.setdefault('CODELM_NO_BAR', '1')
os.environ.setdefault('TOKENIZERS_PARALLELISM', 'false')
CODELM = str(Path(sys.executable).parent/'codelm')

@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str

def codelm(*args, check=False) -> Result:
    "Run `codelm ARGS` in this process, as the console script would, and return its exit status and output."
    from codelm.cli import main
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try: rc = main([str(a) for a in args]) or 0
        except SystemExit as e: rc = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    r = Result(rc, out.getvalue(), err.getvalue())
    if check and rc: raise AssertionError(f'codelm {args} failed ({rc}):\n{r.stdout}\n{r.stderr}')
    return r

def codelm_process(*args, env=None, timeout=900, check=False) -> subprocess.CompletedProcess:
    "Run the installed `codelm` console script in a new process."
    r = subprocess.run([CODELM, *map(str, args)], capture_output=True, text=True, env={**os.environ, **(env or {})}, timeout=timeout)
    if check and r.returncode: raise AssertionError(f'codelm {args} failed ({r.returncode}):\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}')
    return r

@pytest.fixture(scope='session')
def smoke_registry(tmp_path_factory):
    "`codelm run --preset smoke` once per session, as a user runs it: returns the directory holding runs/smoke/<run> and reports/."
    from codelm.data import sample_corpus
    d = tmp_path_factory.mktemp('smoke')
    codelm_process('run', '--preset', 'smoke', '--corpus', sample_corpus(), '--runs', d/'runs', '--report', d/'reports', check=True)
    return d

def copy_runs(registry, dest, names) -> Path:
    "Copies of some of the smoke registry's runs under `dest`, for tests that change or list them."
    for n in names: shutil.copytree(registry/'runs'/'smoke'/n, dest/n)
    return dest
