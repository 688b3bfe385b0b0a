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
