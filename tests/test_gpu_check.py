"""bench/gpu_check.sh, the one script a GPU machine runs: here, without a GPU, it says what it skipped and exits 0."""
import os, subprocess, sys
from pathlib import Path
import pytest, torch

ROOT = Path(__file__).resolve().parent.parent

def test_gpu_check_without_a_gpu():
    if torch.cuda.is_available(): pytest.skip('a GPU is here: run bench/gpu_check.sh itself (it takes up to 10 minutes)')
    r = subprocess.run(['bash', str(ROOT/'bench'/'gpu_check.sh')], capture_output=True, text=True, timeout=120,
                       env={**os.environ, 'PYTHON': sys.executable})
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert len(lines) == 1 and lines[0].startswith('gpu_check: no CUDA GPU here; skipped:'), r.stdout
    for what in ('nbdev-test', 'pytest -m cuda', 'bench/qrnn.py', 'bench/train_speed.py', 'gpu grid'): assert what in lines[0]

def test_gpu_check_steps_exist():
    "Every command the script runs on a GPU exists here, so a GPU session does not find a typo."
    s = (ROOT/'bench'/'gpu_check.sh').read_text()
    for f in ('bench/qrnn.py', 'bench/train_speed.py'): assert f in s and (ROOT/f).exists()
    from codelm.train import TRAIN_PRESETS
    assert '--preset gpu' in s and 'gpu' in TRAIN_PRESETS
    r = subprocess.run([sys.executable, str(ROOT/'bench'/'train_speed.py'), '--device', 'cuda'], capture_output=True, text=True, timeout=120)
    if not torch.cuda.is_available(): assert r.returncode == 2 and r.stderr.strip() == '--device cuda: this machine has no CUDA GPU'
