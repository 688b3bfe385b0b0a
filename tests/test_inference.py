"The `codelm complete` and `codelm fill` commands against the session's smoke runs (issue 6)."
import json, shutil
import pytest
from conftest import codelm, codelm_process

@pytest.fixture(scope='module')
def runs(smoke_registry):
    "The smoke GPT-2 and RoBERTa runs (read only here)."
    return smoke_registry/'runs'/'smoke'

@pytest.mark.parametrize('arch', ['gpt2', 'roberta'])
def test_complete_json(runs, arch):
    r = codelm('complete', runs/arch, '--prompt', 'def add(a, b):\\n', '-n', 2, '--max-new-chars', 30, '--seed', 1, '--json')
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert len(out['completions']) == 2 and all(isinstance(c, str) and len(c) <= 30 for c in out['completions'])
    again = codelm_process('complete', runs/arch, '--prompt', 'def add(a, b):\\n', '-n', 2, '--max-new-chars', 30, '--seed', 1, '--json')
    assert json.loads(again.stdout)['completions'] == out['completions'], again.stderr  # same seed, same text, in a new process

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
