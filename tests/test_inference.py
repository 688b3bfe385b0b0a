"The `codelm complete` and `codelm fill` commands, run as subprocesses against tiny trained runs (issue 6)."
import json, os, shutil, subprocess, sys
from pathlib import Path
import pytest

CODELM = Path(sys.executable).parent/'codelm'
ENV = dict(os.environ, CODELM_NO_BAR='1', TOKENIZERS_PARALLELISM='false')

@pytest.fixture(scope='module')
def runs(tmp_path_factory):
    "A smoke GPT-2 run and a smoke RoBERTa run (one frozen epoch each, for speed)."
    os.environ['CODELM_NO_BAR'] = '1'
    from codelm.data import sample_corpus
    from codelm.train import train_run
    d = tmp_path_factory.mktemp('runs')
    for arch in ('gpt2', 'roberta'): train_run(arch, None, sample_corpus(), d/arch, 'smoke', epochs=0, quiet=True)
    return d

def codelm(*args):
    return subprocess.run([str(CODELM), *map(str, args)], capture_output=True, text=True, env=ENV, timeout=300)

@pytest.mark.parametrize('arch', ['gpt2', 'roberta'])
def test_complete_json(runs, arch):
    r = codelm('complete', runs/arch, '--prompt', 'def add(a, b):\\n', '-n', 2, '--max-new-chars', 30, '--seed', 1, '--json')
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert len(out['completions']) == 2 and all(isinstance(c, str) and len(c) <= 30 for c in out['completions'])
    again = json.loads(codelm('complete', runs/arch, '--prompt', 'def add(a, b):\\n', '-n', 2, '--max-new-chars', 30, '--seed', 1, '--json').stdout)
    assert again['completions'] == out['completions']  # same seed, same text, across processes

@pytest.mark.parametrize('arch', ['gpt2', 'roberta'])
def test_fill_json(runs, arch):
    r = codelm('fill', runs/arch, '--text', 'def add(a, b):\\n    return <mask>\\n', '-k', 3, '--json')
    assert r.returncode == 0, r.stderr
    fills = json.loads(r.stdout)['fills']
    assert 1 <= len(fills) <= 3 and [f['bits'] for f in fills] == sorted(f['bits'] for f in fills)
    assert all(f['text'] == 'def add(a, b):\n    return ' + f['fill'] + '\n' for f in fills)

def test_broken_run_names_file(runs, tmp_path):
    bad = tmp_path/'bad'; shutil.copytree(runs/'gpt2', bad); (bad/'model.safetensors').write_bytes(b'garbage')
    r = codelm('complete', bad, '--prompt', 'x', '-n', 1)
    assert r.returncode == 2 and 'model.safetensors' in r.stderr and 'Traceback' not in r.stderr
    (bad/'model.safetensors').unlink()
    r = codelm('fill', bad, '--text', 'x = <mask>')
    assert r.returncode == 2 and 'model.safetensors: missing' in r.stderr
