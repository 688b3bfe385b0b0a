"""Data-parallel `codelm train` on CPU: two gloo processes (torchrun) against one process on the same global batch.

Two processes with `--bs 16` must step on exactly the batches of one process with `--bs 32` (each rank trains on its own
rows of the same global batch; DDP averages the gradients), so with dropout off (`--drop-mult 0`) and a fixed learning rate
the losses agree to float rounding: the gradient all-reduce sums in another order. The tolerance, 1e-4 absolute on losses
near 4, is about 100x what that rounding gives here (~5e-7) and far below what a real difference gives: ranks that trained
unsynchronised copies, or the two halves of a batch seen by only one rank, move the loss by 1e-2 or more.
"""
import csv, json, os, subprocess, sys, time
from pathlib import Path
import pytest
from codelm.data import sample_corpus

BIN = Path(sys.executable).parent
ENV = dict(os.environ, CODELM_NO_BAR='1', OMP_NUM_THREADS='1')
TOL = 1e-4

# Every rank logs what it writes (os.replace for atomic writes, open for write) to $CODELM_WRITE_LOG, tagged with its RANK.
SITE = '''
import builtins, os
_log, _replace, _open = os.environ.get('CODELM_WRITE_LOG'), os.replace, builtins.open
def _note(path):
    if _log and os.environ.get('RANK') is not None:
        with _open(_log, 'a') as f: f.write(f"{os.environ['RANK']} {os.path.abspath(str(path))}\\n")
def replace(src, dst, *a, **k): _note(dst); return _replace(src, dst, *a, **k)
def open_(file, mode='r', *a, **k):
    if isinstance(file, (str, bytes, os.PathLike)) and any(c in mode for c in 'wax+'): _note(os.fsdecode(file))
    return _open(file, mode, *a, **k)
os.replace, builtins.open = replace, open_
'''

def train_args(out, bs, *extra):
    return ['train', '--arch', 'awd_qrnn', '--tokenizer', 'char', '--preset', 'smoke', '--corpus', str(sample_corpus()),
            '--out', str(out), '--bs', str(bs), '--drop-mult', '0', '--lr', '3e-3', *extra]

def torchrun(n, args, env, timeout=150):
    cmd = [str(BIN/'torchrun'), '--nproc_per_node', str(n), '--monitor_interval', '0.5', str(BIN/'codelm'), *args]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout)

@pytest.fixture(scope='module')
def runs(tmp_path_factory):
    d = tmp_path_factory.mktemp('dist')
    (d/'site').mkdir(); (d/'site'/'sitecustomize.py').write_text(SITE)
    env = dict(ENV, CODELM_CACHE=str(d/'cache'), CODELM_WRITE_LOG=str(d/'writes.log'),
               PYTHONPATH=os.pathsep.join([str(d/'site'), os.environ.get('PYTHONPATH', '')]))
    one = subprocess.run([str(BIN/'codelm'), *train_args(d/'one', 32)], capture_output=True, text=True, env=ENV, timeout=150)
    assert one.returncode == 0, one.stderr[-3000:]
    two = torchrun(2, train_args(d/'two', 16), env)
    assert two.returncode == 0, two.stdout[-2000:] + two.stderr[-3000:]
    return d

def test_two_processes_train_like_one_on_the_global_batch(runs):
    one, two = (json.loads((runs/n/'codelm.json').read_text()) for n in ('one', 'two'))
    assert (two['world_size'], two['bs_per_process'], two['bs']) == (2, 16, 32) and (one['world_size'], one['bs']) == (1, 32)
    h1, h2 = (list(csv.DictReader((runs/n/'history.csv').read_text().splitlines())) for n in ('one', 'two'))
    assert len(h1) == len(h2) >= 2 and [r['row'] for r in h1] == [r['row'] for r in h2]  # the learning curve's points, then the epoch
    for r1, r2 in zip(h1, h2):
        assert (r1['phase'], r1['epoch'], r1['step']) == (r2['phase'], r2['epoch'], r2['step'])
        for k in ('train_loss', 'valid_loss'):
            assert abs(float(r1[k]) - float(r2[k])) < TOL, (r1, r2)
    # and training moved the loss: equal losses are not both a no-op
    assert float(h2[-1]['valid_loss']) < float(h2[0]['valid_loss']) - 0.05

def test_only_rank_0_writes_the_run_directory(runs):
    two = runs/'two'
    assert sorted(p.name for p in two.iterdir()) == ['.lock', 'codelm.json', 'codelm_tokenizer.json', 'config.json', 'history.csv', 'model.safetensors', 'tokenizer.model']
    writes = [l.split(' ', 1) for l in (runs/'writes.log').read_text().splitlines()]
    in_run = [(r, p) for r, p in writes if p.startswith(str(two.resolve()))]
    assert {r for r, _ in in_run} == {'0'}, in_run  # rank 1 wrote nothing there
    assert {Path(p).name for _, p in in_run} >= {'codelm.json', 'config.json', 'model.safetensors', 'history.csv', 'checkpoint.safetensors'}

def test_a_failed_rank_stops_the_job_with_its_error(tmp_path):
    env = dict(ENV, CODELM_CACHE=str(tmp_path/'cache'), CODELM_FAIL_AT='1:3')
    t = time.time()
    r = torchrun(2, train_args(tmp_path/'run', 16), env, timeout=120)
    out = r.stdout + r.stderr
    assert r.returncode != 0 and time.time() - t < 120
    assert 'rank 1: failing at training step 3 (CODELM_FAIL_AT)' in out, out[-3000:]
    assert not (tmp_path/'run'/'model.safetensors').exists()

def test_transformer_with_lr_find_trains_data_parallel(tmp_path):
    "The whole recipe (lr_find included: fastai restores its weights on rank 0 only) for a transformer, with masked accuracy."
    env = dict(ENV, CODELM_CACHE=str(tmp_path/'cache'))
    args = ['train', '--arch', 'roberta', '--preset', 'smoke', '--corpus', str(sample_corpus()), '--out', str(tmp_path/'run'),
            '--bs', '4', '--lr-find', '--budget-mb', '0.02']
    r = torchrun(2, args, env, timeout=150)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-3000:]
    cfg = json.loads((tmp_path/'run'/'codelm.json').read_text())
    assert (cfg['status'], cfg['world_size'], cfg['bs']) == ('finished', 2, 8) and cfg['lr_find'] > 0
    (ep,) = [r for r in csv.DictReader((tmp_path/'run'/'history.csv').read_text().splitlines()) if r['row'] == 'epoch']
    acc = float(ep['accuracy'])
    assert 0 <= acc < 0.9  # summed over both ranks' masked positions
