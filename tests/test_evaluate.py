"`codelm eval` end to end on tiny runs (issues 6, 7): metrics.json / samples.json, intervals, baselines given what the run saw, masked models, leakage refusal, untrained models."
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
    assert (m['sample'], m['scored_functions'], m['baselines']['test_functions']) == ('first', 5, 5)
    lo, hi = m['bpb_ci']; assert lo <= m['bpb'] <= hi and m['ci']['resamples'] == 1000 and m['ci']['level'] == 0.95
    b, cfg = m['baselines'], json.loads((runs/'gpt2'/'codelm.json').read_text())
    assert b['train_bytes'] == cfg['train_sample']['bytes'] and b['train_sample']['max_bytes'] == cfg['train_sample']['max_bytes']
    lo, hi = b['ngram_same_train_ci']; assert lo <= b['ngram_same_train_bpb'] <= hi
    assert m['beats_baselines'] == (m['bpb'] < b['headline_bpb']) and b['headline_bpb'] == min(b['ppmd_per_function_bpb'], b['ngram_same_train_bpb'])
    assert m['beats_xz_no_context'] == (m['bpb'] < b['xz_no_context_bpb'])
    assert not {'xz_bpb', 'ngram_bpb'} & set(b)
    # line completion by CodeXGLUE's definitions, recomputed from the recorded predictions (all 3 lines are among the examples)
    from codelm.evaluate import line_exact_match, line_edit_sim
    lc = m['line_completion']; ex = lc['examples']
    assert lc['lines'] == len(ex) == 3 and not {'exact_match', 'edit_sim', 'edit_sim_kind'} & set(lc)
    assert lc['em'] == round(100 * sum(line_exact_match(e['prediction'], e['target']) for e in ex) / 3, 2)
    assert lc['es'] == round(sum(line_edit_sim(e['prediction'], e['target']) for e in ex) / 3, 2) and 0 <= lc['es'] <= 100
    s = json.loads((runs/'gpt2'/'samples.json').read_text())
    assert set(s['samples']) == {'from pandas import', 'import from', 'import os\n', 'def __init__(self'} and all(len(v) == 5 for v in s['samples'].values())
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
    assert m['line_completion'] is None and m['syntax'] is None  # not a left-to-right generator: its fills are judged by masked accuracy

def test_eval_masked_seeded_sample(runs):
    "By default a masked model is scored on a seeded random sample of the test functions, recorded; the baselines on the same ones."
    from codelm.evaluate import evaluate_run
    from codelm.data import read_split
    m = evaluate_run(runs/'roberta', masked_sample=6, lines=1, headers=1, samples=1, seed=3)
    assert (m['sample'], m['sample_seed'], m['scored_functions'], m['functions']) == ('seeded', 3, 6, 6)
    assert m['split_functions'] == 100 and m['baselines']['test_functions'] == 6 and m['baselines']['test_bytes'] == m['bytes']
    codes = [x['code'] for x in read_split(m['corpus'], 'test')]
    assert m['bytes'] != sum(len(c.encode()) for c in codes[:6])  # not the first six
    again = evaluate_run(runs/'roberta', masked_sample=6, lines=1, headers=1, samples=1, seed=3)
    assert (again['bytes'], again['bpb']) == (m['bytes'], m['bpb'])

def test_eval_causal_whole_split(runs):
    "A causal model is scored on every test function by default, batched; bits agree with one-at-a-time scoring."
    from codelm.evaluate import evaluate_run, score_functions
    from codelm.inference import load_lm, score_windows
    from codelm.data import read_split
    torch = pytest.importorskip('torch')
    m = evaluate_run(runs/'gpt2', lines=1, headers=1, samples=1)
    assert (m['sample'], m['sample_seed'], m['scored_functions'], m['split_functions']) == ('all', None, 100, 100)
    assert m['baselines']['test_functions'] == 100 and m['baselines']['test_bytes'] == m['bytes']
    lm = load_lm(runs/'gpt2'); codes = [x['code'] for x in read_split(m['corpus'], 'test')]
    seqs = [[lm.start_id] + lm.tokenizer.encode(c) for c in codes[:30]]
    assert max(map(len, seqs)) > lm.context  # some go through sliding windows
    for s, (lp, pred) in zip(seqs, lm.next_logprobs(seqs, max_tokens=300)):
        x = torch.tensor(s)  # the reference: one sequence, its windows one at a time
        with torch.no_grad():
            ref = torch.cat([lm.hf(input_ids=x[None, b:e]).logits[0, d - 1 - b:e - 1 - b] for b, e, d in score_windows(len(s), lm.context, lm.stride)])
        ref = ref.float().log_softmax(-1).double(); t = torch.tensor(s[1:])
        assert abs(float(lp.sum() - ref.gather(1, t[:, None]).sum())) / math.log(2) < 1e-4
        assert (pred == ref.argmax(-1)).float().mean() > 0.99
    sc = score_functions(lm, codes[:10])
    assert all(abs(b - lm.score(c).bits) < 1e-2 for b, c in zip(sc['function_bits'], codes[:10]))

def test_eval_old_run_whole_split(runs, tmp_path):
    "A run without train_sample in its codelm.json (it predates budgets): the same-train baselines are the whole split, and say so."
    from codelm.evaluate import evaluate_run, PREDATES_BUDGETS
    run = tmp_path/'old'; shutil.copytree(runs/'gpt2', run)
    cfg = json.loads((run/'codelm.json').read_text()); del cfg['train_sample']; (run/'codelm.json').write_text(json.dumps(cfg))
    b = evaluate_run(run, limit=4, lines=1, headers=1, samples=1)['baselines']
    assert b['train_sample'] == PREDATES_BUDGETS and b['xz_same_train_bpb'] == b['xz_all_train_bpb']

def test_baselines_cli(tmp_path):
    "`codelm baselines`: the whole split with no run, a seeded sample with --budget-mb; computed once per key."
    from codelm.data import sample_corpus
    c = tmp_path/'c'; shutil.copytree(sample_corpus(), c); shutil.rmtree(c/'baselines', ignore_errors=True)
    r = codelm('baselines', '--corpus', c, '--limit', 10, '--json')
    assert r.returncode == 0, r.stderr
    b = json.loads(r.stdout)
    assert b['train_sample'] == 'whole split' and b['xz_same_train_bpb'] == b['xz_all_train_bpb'] and b['test_functions'] == 10
    r = codelm('baselines', '--corpus', c, '--limit', 10, '--budget-mb', 0.05, '--seed', 1)
    assert r.returncode == 0, r.stderr
    assert 'sample of 0.05 MB' in r.stdout and 'whole train split' in r.stdout and 'no context' in r.stdout and '95% CI' in r.stdout
    assert len(list((c/'baselines').glob('*.json'))) == 2
    r = codelm('baselines', '--corpus', c, '--budget-mb', 0)
    assert r.returncode == 2 and '--budget-mb' in r.stderr and "got '0'" in r.stderr and len(r.stderr.strip().splitlines()) == 1

def test_eval_text_output(runs):
    r = codelm('eval', runs/'gpt2', '--limit', 3, '--lines', 2, '--headers', 1)
    assert r.returncode == 0, r.stderr
    assert 'bits/byte' in r.stdout and 'baselines' in r.stdout and 'line completion  EM ' in r.stdout and '%  ES ' in r.stdout
    assert '95% CI' in r.stdout and 'given the same training text' in r.stdout and 'whole train split' in r.stdout and 'no context' in r.stdout

def test_leakage_refused(runs, tmp_path):
    from codelm.data import sample_corpus, load_split, JsonlWriter, SPLITS
    sc = Path(sample_corpus()); bad = tmp_path/'leaky'; shutil.copytree(sc, bad)
    shutil.rmtree(bad/'baselines', ignore_errors=True)
    recs = load_split(bad, 'train') + load_split(bad, 'test')[:3]
    with JsonlWriter(bad/'train.jsonl.gz') as w:
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
    lm.hf.load_state_dict(type(lm.hf)(lm.hf.config).state_dict())  # fresh random weights (from_pretrained marks its modules initialised)
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
