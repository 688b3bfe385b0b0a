"`codelm eval` end to end on tiny runs (issue 7): metrics.json / samples.json, masked models, leakage refusal, untrained models."
import json, math, shutil
from pathlib import Path
import pytest
from conftest import codelm, codelm_process, copy_runs

@pytest.fixture(scope='module')
def runs(smoke_registry, tmp_path_factory):
    "Copies of the session's smoke GPT-2 and RoBERTa runs (evaluation here rewrites their metrics)."
    return copy_runs(smoke_registry, tmp_path_factory.mktemp('eval'), ('gpt2', 'roberta'))

def test_eval_cli_causal(runs):
    r = codelm_process('eval', runs/'gpt2', '--limit', 5, '--lines', 3, '--headers', 1, '--json')
    assert r.returncode == 0, r.stderr
    m = json.loads(r.stdout)
    assert m == json.loads((runs/'gpt2'/'metrics.json').read_text())
    assert m['bpb_kind'] == 'exact' and m['masked_accuracy'] is None and 0 <= m['token_accuracy'] <= 1
    assert abs(m['bpb'] - m['bits'] / m['bytes']) < 1e-3 and m['baselines']['test_bytes'] == m['bytes']
    s = json.loads((runs/'gpt2'/'samples.json').read_text())
    assert set(s['samples']) == {'from pandas import', 'import from'} and all(len(v) == 5 for v in s['samples'].values())
    assert 'from pandas import <mask>' in s['fills']
    # bpb equals the summed token bits of CodeLM.score over the bytes
    from codelm.inference import load_lm
    from codelm.data import read_split
    lm = load_lm(runs/'gpt2'); codes = [x['code'] for x in read_split(m['corpus'], 'test')][:5]
    assert abs(sum(lm.score(c).bits for c in codes) / sum(len(c.encode()) for c in codes) - m['bpb']) < 1e-3

def test_eval_masked(runs):
    from codelm.evaluate import evaluate_run
    m = evaluate_run(runs/'roberta', limit=3, lines=2, headers=1, samples=2)
    assert m['family'] == 'masked' and m['bpb_kind'] == 'pll' and m['token_accuracy'] is None
    assert 0 <= m['masked_accuracy'] <= 1 and m['accuracy_targets'] > 0
    assert m['accuracy_targets'] < 0.3 * m['tokens']  # masked positions only (about 15 %), never every position

def test_eval_text_output(runs):
    r = codelm('eval', runs/'gpt2', '--limit', 3, '--lines', 2, '--headers', 1)
    assert r.returncode == 0, r.stderr
    assert 'bits/byte' in r.stdout and 'baselines' in r.stdout

def test_leakage_refused(runs, tmp_path):
    from codelm.data import sample_corpus, load_split, JsonlGzWriter, SPLITS
    sc = Path(sample_corpus()); bad = tmp_path/'leaky'; shutil.copytree(sc, bad)
    (bad/'baselines.json').unlink(missing_ok=True)
    recs = load_split(bad, 'train') + load_split(bad, 'test')[:3]
    with JsonlGzWriter(bad/'train.jsonl.gz') as w:
        for x in recs: w.write(x)
    run = tmp_path/'run'; shutil.copytree(runs/'gpt2', run)
    for f in ('metrics.json', 'samples.json'): (run/f).unlink(missing_ok=True)
    r = codelm('eval', run, '--corpus', bad, '--limit', 3)
    assert r.returncode == 2 and '3 of' in r.stderr and 'Traceback' not in r.stderr
    assert not (run/'metrics.json').exists() and not (run/'samples.json').exists()

def test_bad_args(runs, tmp_path):
    r = codelm('eval', tmp_path/'nope')
    assert r.returncode == 2 and 'no such run directory' in r.stderr
    r = codelm('eval', runs/'gpt2', '--corpus', tmp_path)
    assert r.returncode == 2 and 'test.jsonl.gz' in r.stderr

def test_untrained_near_uniform(runs):
    "A freshly initialised GPT-2 of the run's config pays about log2(V) bits per token."
    from codelm.inference import load_lm
    from codelm.evaluate import score_functions
    from codelm.data import read_split, sample_corpus
    lm = load_lm(runs/'gpt2')
    torch = pytest.importorskip('torch'); torch.manual_seed(0)
    lm.hf.apply(lm.hf._init_weights)
    codes = [x['code'] for x in read_split(sample_corpus(), 'test')][:3]
    u = score_functions(lm, codes); V = lm.tokenizer.vocab_size
    assert abs(u['bits_per_token'] / math.log2(V) - 1) < 0.1, (u['bits_per_token'], math.log2(V))

def test_uniform_model_scores_log2v():
    "A model whose logits are all equal pays exactly log2(V) bits per token."
    import torch
    from codelm.evaluate import token_hits
    V = 37; lp = torch.zeros(10, V).log_softmax(-1)
    assert abs(float(-lp[0, 5]) / math.log(2) - math.log2(V)) < 1e-5
    assert token_hits(lp, range(10))[1] == 10
