"End-to-end checks of `codelm tokenizers train|stats` as a user runs them: the command's `main` (conftest.py), real files, a second process."
import gzip, json, subprocess, sys
from pathlib import Path
import pytest
from codelm.data import sample_corpus, load_split
from codelm.tokenization import KINDS, LOSSLESS_KINDS, load_tokenizer

from conftest import codelm

def run(*args, check=True): return codelm(*args, check=check)

@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp('toks')
    r = run('tokenizers', 'train', '--corpus', sample_corpus(), '--kinds', ','.join(KINDS), '--preset', 'smoke', '--out', out, '--json')
    return out, json.loads(r.stdout)

def test_train_writes_every_kind(trained):
    out, res = trained
    assert list(res) == list(KINDS)
    for k in KINDS:
        assert (out/k/'codelm_tokenizer.json').exists()
        assert (out/k/('tokenizer.model' if k in ('word', 'unigram', 'bpe', 'char') else 'tokenizer.json')).exists()
    assert res['bpe']['vocab_size'] == 400 and res['char']['vocab_size'] < 200
    meta = json.loads((out/'bpe'/'codelm_tokenizer.json').read_text())
    assert meta['trained_on']['split'] == 'train' and meta['trained_on']['corpus'] == str(sample_corpus())

def test_stats_lossless_on_test_split(trained):
    out, _ = trained
    rows = {r['kind']: r for r in json.loads(run('tokenizers', 'stats', '--corpus', sample_corpus(), '--tokenizers', out, '--json').stdout)}
    assert list(rows) == list(KINDS)
    for k in LOSSLESS_KINDS:
        assert rows[k]['roundtrip_share'] == 1.0 and rows[k]['unk_byte_share'] == 0.0, rows[k]
    assert rows['word']['unk_byte_share'] > 0 and rows['word']['roundtrip_share'] < 1
    assert rows['char']['tokens_per_byte'] > rows['bpe']['tokens_per_byte'] > 0
    table = run('tokenizers', 'stats', '--corpus', sample_corpus(), '--tokenizers', out).stdout
    assert 'tokens/byte' in table and 'unigram' in table and 'on the test split' in table

def test_loads_back_identically_in_another_process(trained):
    out, _ = trained
    texts = [r['code'] for r in load_split(sample_corpus(), 'test')]
    code = ("import json, sys\nfrom codelm.tokenization import load_tokenizer\nfrom codelm.data import load_split, sample_corpus\n"
            "texts = [r['code'] for r in load_split(sample_corpus(), 'test')]\n"
            "print(json.dumps({k: load_tokenizer(sys.argv[1] + '/' + k).encode_batch(texts) for k in sys.argv[2:]}))")
    r = subprocess.run([sys.executable, '-c', code, str(out), *KINDS], capture_output=True, text=True, check=True)
    ids = json.loads(r.stdout)
    for k in KINDS:
        tok = load_tokenizer(out/k)
        assert ids[k] == tok.encode_batch(texts), k
        if k in LOSSLESS_KINDS: assert all(tok.decode(i) == t for i, t in zip(ids[k], texts)), k

def _corpus(root, train_lines):
    root.mkdir(parents=True, exist_ok=True)
    for s in ('train', 'valid', 'test'):
        with gzip.open(root/f'{s}.jsonl.gz', 'wt') as f:
            for l in (train_lines if s == 'train' else ['def f():\n    return 1\n']): f.write(json.dumps(dict(code=l)) + '\n')
    return root

@pytest.mark.parametrize('args,expected', [
    (['--corpus', '/nonexistent/corpus'], '--corpus /nonexistent/corpus: not a corpus directory'),
    (['--kinds', 'bpe,trigram'], "unknown tokenizer kind 'trigram'"),
    (['--kinds', 'bpe', '--vocab-size', '1000000'], 'more than the train split supports for bpe: at most'),
    (['--kinds', 'unigram', '--vocab-size', '100'], 'too small for unigram'),
    (['--kinds', 'bpe', '--vocab-size', 'lots'], '--vocab-size lots'),
])
def test_bad_input_is_one_clear_line(tmp_path, args, expected):
    if '--corpus' not in args: args = ['--corpus', sample_corpus(), *args]
    r = run('tokenizers', 'train', *args, '--out', tmp_path/'out', check=False)
    assert r.returncode == 2 and expected in r.stderr and 'Traceback' not in r.stderr, r.stderr

def test_empty_corpus(tmp_path):
    r = run('tokenizers', 'train', '--corpus', _corpus(tmp_path/'c', []), '--out', tmp_path/'out', check=False)
    assert r.returncode == 2 and 'has no functions to train on' in r.stderr and 'Traceback' not in r.stderr

def test_stats_without_tokenizers(tmp_path):
    r = run('tokenizers', 'stats', '--corpus', sample_corpus(), '--tokenizers', tmp_path, check=False)
    assert r.returncode == 2 and 'no tokenizers in it' in r.stderr
