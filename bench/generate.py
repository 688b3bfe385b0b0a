#!/usr/bin/env python3
"""Benchmark (issue 6): milliseconds per generated character, ours against the usual way, same weights, one run, CPU.

- AWD char model (smoke preset): 5 samples of 200 characters with `CodeLM.generate` (one batch, hidden state reused)
  against fastai's `learn.predict` (one sample per call, the whole prefix re-run per token). Target: at least 20x faster.
- GPT-2: ours (`TransformerCausalLM.generate`, KV cache, one batch) against transformers' pipeline("text-generation")
  on the same weights, 5 sequences in one call. Target: no slower. Two sizes: the code-trained `smoke` run (2 layers x 64,
  context 128), and the `cpu` preset size (4 layers x 256, context 256) with seeded random weights (training it takes
  minutes; speed does not depend on the weights' values, and both sides use the same model object).
Both sides run in the same process with the same torch threads (CODELM_BENCH_THREADS, default 1: the models are tiny,
and more threads only add contention on a shared machine); each is warmed up, then the median of a few repeats is taken.
    .venv/bin/python -P bench/generate.py
"""
import json, os, statistics, tempfile, time
from pathlib import Path
from types import SimpleNamespace
import numpy as np, torch
os.environ['CODELM_NO_BAR'] = '1'
torch.set_num_threads(int(os.environ.get('CODELM_BENCH_THREADS', 1)))
from codelm.data import sample_corpus, bench_json
from codelm.train import train_run, _awd_learner, load_weights
from codelm.inference import load_lm, TransformerCausalLM

PROMPT, N, CHARS = 'def ', 5, 200
runs = Path(os.environ.get('CODELM_BENCH_RUNS', tempfile.mkdtemp()))

def timed(f, reps=3, warm=None):
    "Median seconds of `reps` calls of `f` after a warm-up call (`warm`, or `f` itself), and the last output."
    (warm or f)(); ts = []
    for _ in range(reps): t = time.perf_counter(); out = f(); ts.append(time.perf_counter() - t)
    return statistics.median(ts), out

train_run('awd_lstm', 'char', sample_corpus(), runs/'bench_lstm_char', 'smoke', quiet=True)
lm = load_lm(runs/'bench_lstm_char', device='cpu')
seeds = iter(range(10**6))
t_ours, outs = timed(lambda: lm.generate(PROMPT, n=N, max_new_chars=CHARS, temperature=0.8, seed=next(seeds)), reps=5)
n_ours = sum(len(o) for o in outs)

# The baseline learner: fastai's own LMLearner on the same weights, over fastai's own data pipeline: a `Datasets` of
# pre-tokenized arrays with codelm's CodeNumericalize transform (codelm's loaders skip that pipeline). fastai's test_set cannot tell that a str is an input (infer_idx: "Expected an input of type
# in ndarray, TensorText but got str"). We declare str as an input type of the first transform, CodeNumericalize, which
# encodes a str itself (without the eos it appends to training functions), and give predict the `numericalize.vocab`
# and `tokenizer.sep` it reads to join the result. Per token, predict then does exactly its usual work: re-run the whole
# prefix through the model, softmax, sample.
learn, _ = _awd_learner('awd_lstm', lm.tokenizer, sample_corpus(), 'smoke', 16, 64, None, 50)
from fastai.text.all import Datasets, DataLoaders, LMDataLoader
from codelm.data import read_split
from codelm.tokenization import CodeNumericalize
_ids = [np.array(x + [lm.tokenizer.eos_id]) for x in lm.tokenizer.encode_batch([r['code'] for r in read_split(sample_corpus(), 'train')][:50])]
_ds = Datasets(_ids, [[CodeNumericalize(lm.tokenizer)]], splits=[list(range(40)), list(range(40, 50))])
learn.dls = DataLoaders(*[LMDataLoader(d, bs=16, seq_len=64) for d in (_ds.train, _ds.valid)])
load_weights(learn.model, runs/'bench_lstm_char'/'model.safetensors')
learn.model.eval()
tl = learn.dls.train_ds.tls[0]
tl.types[0] = (np.ndarray, str)
tl.tfms.fs[0].add_eos = False
learn.dls.train_ds.numericalize = SimpleNamespace(vocab=lm.tokenizer.vocab)
learn.dls.train_ds.tokenizer = SimpleNamespace(sep='')
def fa_predict(n_words): return learn.predict(PROMPT, n_words=n_words, temperature=0.8, no_unk=False, no_bar=True, decoder=list)
t_fa, fa_out = timed(lambda: [fa_predict(CHARS) for _ in range(N)], reps=2, warm=lambda: fa_predict(20))
# predict emits CHARS tokens per sample (it has no eos stop); each char-model token is at most one character, so charging it
# per token is in its favour (ours is charged per character of decoded text: escapes take several tokens per character)
n_fa = N * CHARS
ms_ours, ms_fa = 1000 * t_ours / max(1, n_ours), 1000 * t_fa / n_fa
print(f'AWD-LSTM char: ours {ms_ours:.3f} ms/char ({n_ours} chars), fastai learn.predict {ms_fa:.3f} ms/char; target >= 20x')

# GPT-2: the same model object in transformers' pipeline. Both sample at temperature 0.8 with no top-k/top-p filter, stop
# at eos, and are charged per character of text they produce, up to 200 a sample; the pipeline (which cannot stop at 200
# characters) gets as many new tokens as ours needed at most.
from transformers import pipeline, GPT2Config, GPT2LMHeadModel, logging as hf_logging
hf_logging.set_verbosity_error()
def gpt2_pair(gpt):
    t_g, g_out = timed(lambda: gpt.generate(PROMPT, n=N, max_new_chars=CHARS, temperature=0.8, seed=0))
    n_g = sum(len(o) for o in g_out)
    max_tok = min(gpt.context - 1 - len(gpt.tokenizer.encode(PROMPT)), max(len(gpt.tokenizer.encode(o)) for o in g_out) + 1)
    pipe = pipeline('text-generation', model=gpt.hf, tokenizer=gpt.tokenizer.hf_tokenizer(), device='cpu')
    def hf_gen():
        torch.manual_seed(0)
        return pipe(PROMPT, do_sample=True, temperature=0.8, top_k=0, top_p=1.0, max_new_tokens=max_tok, num_return_sequences=N,
                    return_full_text=False, pad_token_id=gpt.tokenizer.pad_id, eos_token_id=gpt.tokenizer.eos_id)
    t_p, p_out = timed(hf_gen)
    n_p = sum(min(CHARS, len(d['generated_text'])) for d in p_out)  # the task is 200 characters a sample: text past them is waste
    return 1000 * t_g / max(1, n_g), n_g, 1000 * t_p / max(1, n_p), n_p

train_run('gpt2', None, sample_corpus(), runs/'bench_gpt2', 'smoke', quiet=True)
gpt = load_lm(runs/'bench_gpt2', device='cpu')
ms_g, n_g, ms_p, n_p = gpt2_pair(gpt)
print(f'GPT-2 smoke: ours {ms_g:.3f} ms/char ({n_g} chars), transformers pipeline {ms_p:.3f} ms/char ({n_p} chars); target: no slower')
torch.manual_seed(0)
hc = GPT2Config(vocab_size=gpt.tokenizer.vocab_size, n_positions=256, n_embd=256, n_layer=4, n_head=4, n_inner=1024,
                bos_token_id=gpt.tokenizer.bos_id, eos_token_id=gpt.tokenizer.eos_id)
big = TransformerCausalLM(GPT2LMHeadModel(hc), gpt.tokenizer, 'gpt2-cpu-size-random', device='cpu')
ms_b, n_b, ms_bp, n_bp = gpt2_pair(big)
print(f'GPT-2 cpu size: ours {ms_b:.3f} ms/char ({n_b} chars), transformers pipeline {ms_bp:.3f} ms/char ({n_bp} chars); target: no slower')
th = torch.get_num_threads()
print(bench_json(dict(bench='generate_awd_char_ms_per_char', value=round(ms_ours, 4), unit='ms/char', baseline=round(ms_fa, 4),
                      ratio=round(ms_fa / ms_ours, 1), note=f'5 samples x 200 chars, smoke AWD-LSTM char; baseline fastai learn.predict, same weights; {th} thread(s)')))
print(bench_json(dict(bench='generate_gpt2_ms_per_char', value=round(ms_g, 4), unit='ms/char', baseline=round(ms_p, 4),
                      ratio=round(ms_p / ms_g, 2), note=f'5 samples x up to 200 chars, gpt2 smoke size (trained); baseline transformers pipeline("text-generation"), same weights; {th} thread(s)')))
print(bench_json(dict(bench='generate_gpt2_cpu_size_ms_per_char', value=round(ms_b, 4), unit='ms/char', baseline=round(ms_bp, 4),
                      ratio=round(ms_bp / ms_b, 2), note=f'5 samples x up to 200 chars, gpt2 cpu preset size (4x256, random weights); baseline transformers pipeline("text-generation"), same model; {th} thread(s)')))
