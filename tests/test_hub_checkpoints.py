"""Anyone's checkpoint on the scoreboard, and codelm runs that behave inside transformers (issue 34, point 6).

Small randomly initialised checkpoints of the four model types PolyCoder's comparison needs (GPT-2, GPT-NeoX as PolyCoder,
GPTBigCode as SantaCoder, Llama-style), saved with `save_pretrained` beside a byte-level BPE tokenizer, load through
`codelm.load_lm` and generate and score; what codelm must not read is refused in one line. A GPT-2 run's files without
codelm.json score exactly as the run does, and the usage its model card shows runs on a 2,000-character prompt."""
import json, math, re, shutil
import pytest, torch
from conftest import codelm
from codelm.data import sample_corpus, load_split

PROMPT = 'def add(a, b):\n    return a + b\n'
LONG = ('def f(x):\n    """Return x plus one."""\n    return x + 1\n\n' * 60)[:2000]
TYPES = ('gpt2', 'gpt_neox', 'gpt_bigcode', 'llama')

def bpe_tokenizer(d, bos:str, eos:str, max_len=None):
    "Train a small byte-level BPE on the sample corpus and save it in `d` as transformers saves a hub tokenizer."
    from tokenizers import Tokenizer, models, trainers, pre_tokenizers, decoders
    from transformers import PreTrainedTokenizerFast
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer, tok.decoder = pre_tokenizers.ByteLevel(add_prefix_space=False), decoders.ByteLevel()
    texts = [r['code'] for r in load_split(sample_corpus(), 'train')[:300]]
    tok.train_from_iterator(texts, trainers.BpeTrainer(vocab_size=400, special_tokens=sorted({bos, eos}),
                                                       initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    kw = {} if max_len is None else dict(model_max_length=max_len)
    ft = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token=bos, eos_token=eos, **kw)
    ft.save_pretrained(d)
    return ft

def tiny_config(kind:str, vocab:int, bos:int, eos:int):
    "A 2-layer, width-32 config of `kind` with 64 positions (GPT-NeoX with 8 embedding rows past the tokenizer, as hub models pad)."
    import transformers as T
    ids = dict(bos_token_id=bos, eos_token_id=eos)
    if kind == 'gpt2': return T.GPT2Config(vocab_size=vocab, n_positions=64, n_embd=32, n_layer=2, n_head=2, **ids)
    if kind == 'gpt_bigcode': return T.GPTBigCodeConfig(vocab_size=vocab, n_positions=64, n_embd=32, n_layer=2, n_head=2, multi_query=True, **ids)
    if kind == 'gpt_neox':
        return T.GPTNeoXConfig(vocab_size=vocab + 8, hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
                               max_position_embeddings=64, **ids)
    return T.LlamaConfig(vocab_size=vocab, hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2,
                         num_key_value_heads=1, max_position_embeddings=64, **ids)

def save_checkpoint(d, kind:str, max_len=None):
    "A random checkpoint of `kind` in `d`, saved with `save_pretrained` beside its tokenizer (Llama's with <s> and </s>)."
    from transformers import AutoModelForCausalLM
    bos, eos = ('<s>', '</s>') if kind == 'llama' else ('<|endoftext|>', '<|endoftext|>')
    ft = bpe_tokenizer(d, bos, eos, max_len)
    torch.manual_seed(0)
    m = AutoModelForCausalLM.from_config(tiny_config(kind, len(ft), ft.bos_token_id, ft.eos_token_id))
    m.save_pretrained(d)
    return d

@pytest.fixture(scope='module')
def ckpts(tmp_path_factory):
    "One tiny checkpoint directory per model type."
    root = tmp_path_factory.mktemp('hub')
    return {k: save_checkpoint(root/k, k) for k in TYPES}

@pytest.mark.parametrize('kind', TYPES)
def test_each_type_loads_generates_and_scores(ckpts, kind):
    import codelm as C
    from codelm.inference import TransformerCausalLM
    d = ckpts[kind]
    lm = C.load_lm(d, device='cpu')
    assert type(lm) is TransformerCausalLM and (lm.family, lm.name, lm.context) == ('causal', str(d), 64)
    tk = lm.tokenizer
    assert lm.start_id == (tk.bos_id if kind == 'llama' else tk.eos_id)  # Llama's text starts after <s>; GPT-2's bos is its eos
    assert (tk.bos_id != tk.eos_id) == (kind == 'llama')
    outs = lm.generate('def f(x):\n', n=3, max_new_chars=30, temperature=1.0, seed=1)
    assert outs == lm.generate('def f(x):\n', n=3, max_new_chars=30, temperature=1.0, seed=1)  # same seed, same text
    assert len(outs) == 3 and all(isinstance(o, str) and len(o) <= 30 for o in outs)
    with pytest.warns(UserWarning, match='longer than the context'):
        assert len(lm.generate(LONG, n=2, max_new_chars=40, seed=0)) == 2  # cut from the left, room kept to answer
    assert lm.cut_prompts == 1
    ids = [lm.start_id] + tk.encode(PROMPT)
    with torch.no_grad(): lp = lm.hf(input_ids=torch.tensor([ids])).logits[0, :-1].float().log_softmax(-1)
    ref = -float(lp.gather(1, torch.tensor(ids[1:])[:, None]).sum()) / math.log(2)
    s = lm.score(PROMPT)
    assert abs(s.bits - ref) < 1e-4 * ref and abs(sum(b for _, b in s.tokens) - s.bits) < 1e-6 and s.n_bytes == len(PROMPT)
    assert lm.score(LONG).bits > 0  # longer than the context: sliding windows
    assert len(lm.beam('    return self.', k=2)) == 2

def test_padded_embedding_rows_are_never_sampled(ckpts):
    import codelm as C
    lm = C.load_lm(ckpts['gpt_neox'], device='cpu')
    extra = range(lm.tokenizer.vocab_size, lm.n_logits)
    assert len(extra) == 8 and set(extra) <= set(lm._banned().tolist())
    start, adv, fed = lm._start, lm._advance, []
    def boost(out):  # rows past the tokenizer would win every draw
        st, lg = out
        lg = lg.clone()
        lg[:, list(extra)] = 1e4
        return st, lg
    lm._start = lambda ids, n: boost(start(ids, n))
    lm._advance = lambda st, ids: (fed.append(ids.tolist()), boost(adv(st, ids)))[1]
    outs = lm.generate('def f(x):\n', n=4, max_new_chars=10, temperature=1.0, seed=0, heal=False)
    assert len(outs) == 4 and fed and max(max(r) for r in fed) < lm.tokenizer.vocab_size

def test_tokenizer_max_length_caps_the_context(tmp_path):
    import codelm as C
    assert C.load_lm(save_checkpoint(tmp_path/'a', 'gpt2', max_len=48), device='cpu').context == 48
    assert C.load_lm(save_checkpoint(tmp_path/'b', 'gpt2', max_len=10**6), device='cpu').context == 64  # larger: the positions

def test_complete_command_takes_a_checkpoint(ckpts, monkeypatch):
    r = codelm('complete', ckpts['gpt_bigcode'], '--prompt', 'def f(x):\\n', '-n', 2, '--max-new-chars', 20, '--json')
    assert r.returncode == 0, r.stderr
    assert len(json.loads(r.stdout)['completions']) == 2
    monkeypatch.setenv('HF_HUB_OFFLINE', '1')
    r = codelm('complete', 'nobody/no-such-model', '--prompt', 'x')
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 2 and len(lines) == 1 and "no hub model 'nobody/no-such-model' in the local Hugging Face cache" in lines[0], r.stderr
    assert 'offline' in lines[0]

def one_line(e) -> str:
    assert len(str(e).splitlines()) == 1, str(e)
    return str(e)

def test_what_is_refused(ckpts, tmp_path):
    import codelm as C
    from codelm.rundir import RunError
    from codelm.tokenization import RemoteCodeError
    def broken(name):
        return shutil.copytree(ckpts['gpt2'], tmp_path/name)
    d = broken('code')
    c = json.loads((d/'config.json').read_text())
    (d/'config.json').write_text(json.dumps(dict(c, auto_map=dict(AutoModelForCausalLM='modeling_evil.Evil'))))
    with pytest.raises(RemoteCodeError) as e: C.load_lm(d)
    assert one_line(e.value) == (f"{d}/config.json: field 'auto_map' asks to run code from the model directory (modeling_evil.py); "
                                 "codelm does not run a checkpoint's code")
    d = broken('tok_code')
    t = json.loads((d/'tokenizer_config.json').read_text())
    (d/'tokenizer_config.json').write_text(json.dumps(dict(t, auto_map=dict(AutoTokenizer=['tok_evil.T', None]))))
    with pytest.raises(RemoteCodeError, match="tokenizer_config.json: field 'auto_map'"): C.load_lm(d)
    d = broken('pickled')
    (d/'model.safetensors').rename(d/'pytorch_model.bin')
    with pytest.raises(RunError) as e: C.load_lm(d)
    assert one_line(e.value).startswith(f'{d}: only pickled weights (pytorch_model.bin), which codelm refuses (unpickling can run code)')
    d = broken('no_tokenizer')
    for f in ('tokenizer.json', 'tokenizer_config.json'): (d/f).unlink()
    with pytest.raises(RunError) as e: C.load_lm(d)
    assert one_line(e.value) == f'{d}: no tokenizer files (expected tokenizer.json, or vocab.json and merges.txt, or tokenizer.model, beside config.json)'
    d = broken('classifier')
    (d/'config.json').write_text(json.dumps(dict(c, architectures=['GPT2ForSequenceClassification'])))
    with pytest.raises(RunError, match=r"field 'architectures' is \[\"GPT2ForSequenceClassification\"\] \(expected a causal LM"): C.load_lm(d)
    d = broken('small_vocab')
    (d/'config.json').write_text(json.dumps(dict(c, vocab_size=50)))
    with pytest.raises(RunError) as e: C.load_lm(d)  # the weights do not fit the config
    assert one_line(e.value).startswith(f'{d}/model.safetensors: tensors do not match the gpt2 model (of the wrong shape ')
    d = tmp_path/'empty'
    d.mkdir()
    with pytest.raises(RunError) as e: C.load_lm(d)
    assert 'not a codelm run and not a loadable transformers directory' in one_line(e.value)

# A codelm run as a plain checkpoint, and inside transformers

@pytest.fixture(scope='module')
def short_run(tmp_path_factory):
    "A smoke GPT-2 run trained from scratch on blocks of 32 tokens (its model has 128 positions)."
    from codelm.train import train_run
    out = tmp_path_factory.mktemp('run')/'gpt2_32'
    train_run('gpt2', None, sample_corpus(), out, 'smoke', seq_len=32, quiet=True)
    return out

def test_run_files_say_their_context(short_run):
    from transformers import AutoTokenizer
    assert json.loads((short_run/'config.json').read_text())['n_positions'] == 128
    assert json.loads((short_run/'tokenizer_config.json').read_text())['model_max_length'] == 32
    assert AutoTokenizer.from_pretrained(short_run).model_max_length == 32

def test_run_without_codelm_json_scores_exactly_as_the_run(short_run, tmp_path):
    import codelm as C
    plain = shutil.copytree(short_run, tmp_path/'plain')
    (plain/'codelm.json').unlink()
    a, b = C.load_lm(short_run, device='cpu'), C.load_lm(plain, device='cpu')
    assert (b.context, b.start_id, b.stride) == (a.context, a.start_id, a.stride) == (32, a.tokenizer.eos_id, 16)
    for text in (PROMPT, LONG):
        assert abs(a.score(text).bits - b.score(text).bits) <= 1e-6, text[:20]
    assert a.generate('def f(', n=3, max_new_chars=30, seed=2) == b.generate('def f(', n=3, max_new_chars=30, seed=2)

def test_model_card_usage_runs_on_a_long_prompt(short_run, tmp_path):
    "`codelm card` writes usage that works as written: transformers' pipeline on a 2,000-character prompt (an IndexError before)."
    run = shutil.copytree(short_run, tmp_path/'carded')
    (run/'metrics.json').write_text(json.dumps(dict(bpb=3.0, bpb_ci=[2.9, 3.1], bytes=1000, scored_functions=10)))
    t = json.loads((run/'tokenizer_config.json').read_text())
    (run/'tokenizer_config.json').write_text(json.dumps({k: v for k, v in t.items() if k != 'model_max_length'}))  # a run of before
    import codelm as C
    assert C.load_lm(run, device='cpu').context == 32  # a run reads its context from codelm.json: nothing breaks without the field
    r = codelm('card', run)
    assert r.returncode == 0, r.stderr
    card = (run/'README.md').read_text()
    code = re.search(r'```python\n(.*?)```', card, re.S)[1]
    assert "handle_long_generation='hole'" in code and 'at most 32 tokens' in code
    assert json.loads((run/'tokenizer_config.json').read_text())['model_max_length'] == 32  # the card wrote the field back
    code = code.replace('REPO_ID', str(run)).replace("'def fibonacci(n):\\n'", 'LONG')
    assert 'LONG' in code
    env = dict(LONG=LONG, print=lambda *a, **k: None)
    exec(code, env)
    assert isinstance(env['out'][0]['generated_text'], str)

def test_eval_takes_a_checkpoint_with_corpus_and_out(short_run, tmp_path):
    "`codelm eval CHECKPOINT --corpus C --out D`: the run's bits per byte exactly, baselines on the whole train split, said."
    from codelm.evaluate import evaluate_run, CHECKPOINT_BASELINE
    from codelm.rundir import RunError
    plain = shutil.copytree(short_run, tmp_path/'plain')
    (plain/'codelm.json').unlink()
    kw = dict(corpus=sample_corpus(), limit=6, lines=2, headers=1, samples=1)
    with pytest.raises(RunError, match='--out DIR'): evaluate_run(plain, corpus=sample_corpus())
    with pytest.raises(RunError, match='--corpus DIR'): evaluate_run(plain, out=tmp_path/'e')
    ours = evaluate_run(short_run, out=tmp_path/'r', **kw)
    theirs = evaluate_run(plain, out=tmp_path/'e', **kw)
    assert theirs['bpb'] == ours['bpb'] and theirs['checkpoint'] == str(plain) and theirs['arch'] == 'gpt2'
    assert theirs['baselines']['train_sample'] == CHECKPOINT_BASELINE
    assert (tmp_path/'e'/'metrics.json').exists() and not (plain/'metrics.json').exists()

def test_an_evaluated_checkpoint_joins_the_report_and_the_explorer(short_run, tmp_path):
    "A checkpoint evaluated into a registry is a row of the results table and an entry of the explorer's picker."
    from codelm.evaluate import evaluate_run
    from codelm.experiment import collect, results_table
    from codelm.explore import list_runs
    plain = shutil.copytree(short_run, tmp_path/'plain')
    (plain/'codelm.json').unlink()
    reg = tmp_path/'runs'/'cpu'
    shutil.copytree(short_run, reg/'gpt2_32')
    m = evaluate_run(plain, corpus=sample_corpus(), out=reg/'plain-gpt2', limit=6, lines=2, headers=1, samples=1)
    recs = collect(reg)
    assert [r['name'] for r in recs] == ['gpt2_32', 'plain-gpt2']
    row = results_table(recs).set_index('run').loc['plain-gpt2']
    assert row['tokenizer'] == 'its own' and row['bits/byte (test)'] == m['bpb']
    infos = {i['name']: i for i in list_runs(tmp_path/'runs')}
    assert infos['cpu/plain-gpt2']['path'] == str(plain) and not infos['cpu/plain-gpt2']['error']
