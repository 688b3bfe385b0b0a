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

# Token healing (issue: `codelm complete RUN --prompt $'def main():\n'` returned empty completions)

@pytest.fixture(scope='module')
def toks():
    "Smoke tokenizers of the sample corpus (each trains in well under a second)."
    from codelm.data import sample_corpus
    from codelm.tokenization import train_tokenizer
    return {k: train_tokenizer(k, sample_corpus(), preset='smoke') for k in ('bytebpe', 'bpe', 'wordpiece', 'char')}

def _bigram(tok):
    "A bigram model counted on the sample corpus's train split: a tiny trained model whose state is its last token."
    import torch
    from codelm.data import sample_corpus, load_split
    from codelm.inference import CodeLM
    class Bigram(CodeLM):
        def _start(self, ids, n): return ids[-1:].repeat(n), self.logp[ids[-1]].repeat(n, 1)
        def _advance(self, state, ids): return ids, self.logp[ids]
    lm, c = Bigram('bigram', tok, context=512, device='cpu'), torch.ones(tok.vocab_size, tok.vocab_size)
    for t in tok.encode_batch([r['code'] for r in load_split(sample_corpus(), 'train')[:300]]):
        ids = torch.tensor([tok.bos_id] + t + [tok.eos_id]); c.index_put_((ids[:-1], ids[1:]), torch.ones(len(ids) - 1), accumulate=True)
    lm.logp = (c / c.sum(-1, keepdim=True)).log()
    return lm

@pytest.mark.parametrize('kind', ['bytebpe', 'bpe', 'wordpiece', 'char'])
def test_heal_allowed_tokens(toks, kind):
    "The tokens allowed while regrowing are those whose decoded text spells past what is left, or spells it up to where a backed-off token started."
    from codelm.inference import TokenHealer
    tok = toks[kind]; h = TokenHealer.of(tok); no = tok.special_ids | {tok.unk_id}
    text = {i: tok.decode([i]) for i in range(tok.vocab_size) if i not in no}
    for prompt in ['def main():\n', 'def area(sel', '    return self.x + 1', 'x = [1, 2']:
        kept, back, removed = h.split(prompt)
        assert removed and prompt.endswith(removed) and kept + back == tok.encode(prompt)
        starts = [len(tok.decode(back[:j])) for j in range(len(back))]
        plan = h.plan(back)
        assert sorted(plan) == sorted(set(starts))
        for a in plan:
            rest = removed[a:]
            want = {i for i, t in text.items() if t and (t.startswith(rest) or (rest.startswith(t) and a + len(t) in starts[1:]))}
            assert set(plan[a].tolist()) == want, (kind, prompt, a)
            assert back[starts.index(a)] in want  # the prompt's own token is always a way on

def test_heal_indents_after_def(toks):
    "A model whose training text always merged the newline with the indentation: healed, `def main():\\n` gets an indented body."
    lm = _bigram(toks['bytebpe'])
    assert lm.generate('def main():\n', n=2, max_new_chars=30, temperature=0, heal=False) == ['', '']  # a lone newline ended functions
    out = lm.generate('def main():\n', n=3, max_new_chars=30, temperature=0, stop=['\n'])
    assert lm.last_heal == dict(removed='):\n', healed=True)
    assert len(set(out)) == 1 and out[0].startswith('    ') and out[0].strip() and len(out[0]) <= 30, out
    samples = lm.generate('def main():\n', n=8, max_new_chars=30, temperature=0.8, seed=0)
    assert sum(s.startswith(' ') for s in samples) >= 6, samples

def test_heal_inside_identifier(toks):
    "A prompt that ends inside an identifier: BPE regrows it (`(sel` -> `(self`); for the char kind healing changes nothing."
    bl = _bigram(toks['bytebpe'])
    assert bl.generate('def area(sel', max_new_chars=10, temperature=0)[0].startswith('f')
    assert not bl.generate('def area(sel', max_new_chars=10, temperature=0, heal=False)[0].startswith('f')
    cl = _bigram(toks['char'])
    healed = cl.generate('    return sel', n=4, max_new_chars=20, seed=3)
    assert cl.last_heal['removed'] == 'el'
    assert healed == cl.generate('    return sel', n=4, max_new_chars=20, seed=3, heal=False)

def test_complete_no_heal(runs):
    "`codelm complete --no-heal` continues the prompt as it tokenizes; --json reports what healing backed off."
    r = codelm('complete', runs/'gpt2', '--prompt', 'def main():\\n', '-n', 2, '--max-new-chars', 20, '--json')
    assert r.returncode == 0, r.stderr
    h = json.loads(r.stdout)['heal']
    assert h['healed'] and 'def main():\n'.endswith(h['removed']) and h['removed']
    r = codelm('complete', runs/'gpt2', '--prompt', 'def main():\\n', '-n', 2, '--max-new-chars', 20, '--json', '--no-heal')
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)['heal'] == dict(removed='', healed=False)

# Backslashes and non-ASCII text in prompts (issue 24.4, issue 21): only \n, \t and \\ are decoded; --raw and files take text as it is

@pytest.mark.parametrize('typed, received', [
    ('café = 1\\n', 'café = 1\n'),                                # was `cafÃ© = 1`
    ('open("C:\\Users\\me")', 'open("C:\\Users\\me")'),          # was `truncated \UXXXXXXXX escape`
    ('x = 1 \\', 'x = 1 \\'),                                     # a trailing backslash (was an error)
    ('s = "a\\\\nb"\\tx', 's = "a\\nb"\tx'),                       # \\ is one backslash; the n after it is not an escape
    ('re.compile(r"\\d+")  # 日本\\n', 're.compile(r"\\d+")  # 日本\n')])
def test_complete_prompt_reaches_model_intact(runs, typed, received):
    r = codelm('complete', runs/'gpt2', '--prompt', typed, '-n', 1, '--max-new-chars', 5, '--json')
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)['prompt'] == received
    plain = codelm('complete', runs/'gpt2', '--prompt', typed, '-n', 1, '--max-new-chars', 5)
    assert plain.returncode == 0 and plain.stdout.startswith(f'--- 1\n{received}'), plain.stdout

def test_raw_and_prompt_file(runs, tmp_path):
    typed = 'path = "C:\\new\\table"\\n'
    r = codelm('complete', runs/'gpt2', '--prompt', typed, '--raw', '-n', 1, '--max-new-chars', 5, '--json')
    assert r.returncode == 0 and json.loads(r.stdout)['prompt'] == typed, r.stderr
    f = tmp_path/'prompt.py'; f.write_text('def café():\n    return "C:\\new"\\', encoding='utf-8')
    r = codelm('complete', runs/'gpt2', '--prompt-file', f, '-n', 1, '--max-new-chars', 5, '--json')
    assert r.returncode == 0 and json.loads(r.stdout)['prompt'] == f.read_text(encoding='utf-8'), r.stderr
    f.write_text('x = "C:\\Users" + <mask>\n', encoding='utf-8')
    r = codelm('fill', runs/'gpt2', '--text-file', f, '-k', 2, '--json')
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out['text'] == 'x = "C:\\Users" + <mask>\n' and all(d['text'].startswith('x = "C:\\Users" + ') for d in out['fills'])
    r = codelm('complete', runs/'gpt2', '--prompt', 'x', '--prompt-file', f)
    assert r.returncode == 2 and 'not allowed with' in r.stderr and len(r.stderr.splitlines()) == 1

@pytest.mark.parametrize('arch', ['gpt2', 'roberta'])
def test_fill_text_with_backslash_and_accent(runs, arch):
    r = codelm('fill', runs/arch, '--text', 'café = <mask>\\n', '-k', 2, '--json')
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out['text'] == 'café = <mask>\n'
    assert out['fills'] and all(d['text'] == 'café = ' + d['fill'] + '\n' for d in out['fills'])

# Ranges of the sampling parameters, in the library (issue 24.6)

@pytest.fixture(scope='module')
def gpt(runs):
    from codelm.inference import load_lm
    return load_lm(runs/'gpt2', device='cpu')

@pytest.mark.parametrize('kw, named', [
    (dict(n=0), 'n=0'), (dict(n=-1), 'n=-1'), (dict(n=100_000_000), 'n=100000000'), (dict(n=2.0), 'n=2.0'),
    (dict(max_new_chars=0), 'max_new_chars=0'), (dict(max_new_chars=10**9), 'max_new_chars='),
    (dict(temperature=float('nan')), 'temperature=nan'), (dict(temperature=float('inf')), 'temperature=inf'),
    (dict(temperature=-0.5), 'temperature=-0.5'), (dict(top_k=-1), 'top_k=-1'), (dict(top_p=0), 'top_p=0'),
    (dict(top_p=1.01), 'top_p=1.01'), (dict(top_p=float('nan')), 'top_p=nan'), (dict(seed=-1), 'seed=-1'), (dict(stop=['']), "stop=''")])
def test_generate_checks_ranges(gpt, kw, named):
    from codelm.inference import InferenceError
    with pytest.raises(InferenceError, match='^' + named.replace('(', r'\(')) as e: gpt.generate('def f(', **kw)
    assert 'expected' in str(e.value) and isinstance(e.value, ValueError)

def test_fill_checks_k(gpt, runs):
    from codelm.inference import InferenceError, load_lm
    rob = load_lm(runs/'roberta', device='cpu')
    for lm in (gpt, rob):
        for k in (0, -1, 101):
            with pytest.raises(InferenceError, match=f'^k={k}: expected an integer from 1 to 100'): lm.fill_mask('x = <mask>', k=k)
    assert 1 <= len(rob.fill_mask('x = <mask>', k=100)) <= 100  # more than one mask position can offer: no torch error

def test_sampler_never_draws_special_tokens(gpt, runs):
    "Whatever the sampling settings, no sample holds unk, bos, pad or mask: the sampler sets them to -inf before every draw."
    from codelm.inference import load_lm
    rob = load_lm(runs/'roberta', device='cpu')
    for lm in (gpt, rob):
        tk = lm.tokenizer
        special = {i for i in (*tk.special_ids, tk.unk_id) if i is not None} - {tk.eos_id}
        fed, adv = [], lm._advance
        lm._advance = lambda st, ids: (fed.extend(ids.tolist()), adv(st, ids))[1]
        try:
            for kw in (dict(temperature=10), dict(temperature=10, top_k=0, top_p=1.0), dict(temperature=0), dict(temperature=5, top_k=100_000)):
                lm.generate('def f(x):\n', n=8, max_new_chars=40, seed=1, **kw)
        finally: del lm._advance
        assert len(fed) > 50 and not special & set(fed), (lm.name, special & set(fed))
