#!/usr/bin/env python3
"""Benchmark (issue 6): milliseconds per generated character, ours against the usual way, same weights, one run, CPU.

- AWD char model: 5 samples of 200 characters with `CodeLM.generate` (one batch, hidden state reused) against
  fastai's `learn.predict` (one sample per call, the whole prefix re-run per token). Target: at least 20x faster.
- GPT-2 (code-trained, `smoke` preset size, 2 layers x 64, context 128): ours (`TransformerCausalLM.generate`, KV cache,
  one batch) against transformers' pipeline("text-generation") on the same weights, 5 sequences in one call. Target: no slower.
    .venv/bin/python -P bench/generate.py
"""
import json, os, sys, tempfile, time
from pathlib import Path
from types import SimpleNamespace
import numpy as np, torch
os.environ['CODELM_NO_BAR'] = '1'
torch.set_num_threads(max(1, os.cpu_count() or 1))
from codelm.data import sample_corpus
from codelm.train import train_run, _awd_learner, load_weights, TRAIN_PRESETS
from codelm.inference import load_lm

PROMPT, N, CHARS = 'def ', 5, 200
runs = Path(os.environ.get('CODELM_BENCH_RUNS', tempfile.mkdtemp()))
train_run('awd_lstm', 'char', sample_corpus(), runs/'bench_lstm_char', 'smoke', quiet=True)
lm = load_lm(runs/'bench_lstm_char', device='cpu')

def timed(f, reps=1):
    f(); t = time.perf_counter()
    for _ in range(reps): out = f()
    return (time.perf_counter() - t) / reps, out

t_ours, outs = timed(lambda: lm.generate(PROMPT, n=N, max_new_chars=CHARS, temperature=0.8, seed=0), reps=2)
n_ours = sum(len(o) for o in outs)

# The baseline learner: fastai's own LMLearner on the same weights. codelm's lm_dataloaders builds its Datasets over
# pre-tokenized arrays, so fastai's test_set cannot tell that a str is an input (infer_idx: "Expected an input of type
# in ndarray, TensorText but got str"). We declare str as an input type of the first transform, CodeNumericalize, which
# encodes a str itself (without the eos it appends to training functions), and give predict the `numericalize.vocab`
# and `tokenizer.sep` it reads to join the result. Per token, predict then does exactly its usual work: re-run the whole
# prefix through the model, softmax, sample.
learn, _ = _awd_learner('awd_lstm', lm.tokenizer, sample_corpus(), 'smoke', 16, 64, None, 50)
load_weights(learn.model, runs/'bench_lstm_char'/'model.safetensors')
learn.model.eval()
tl = learn.dls.train_ds.tls[0]
tl.types[0] = (np.ndarray, str)
tl.tfms.fs[0].add_eos = False
learn.dls.train_ds.numericalize = SimpleNamespace(vocab=lm.tokenizer.vocab)
learn.dls.train_ds.tokenizer = SimpleNamespace(sep='')
def fastai_predict():
    return [learn.predict(PROMPT, n_words=CHARS, temperature=0.8, no_unk=False, no_bar=True, decoder=list) for _ in range(N)]
t_fa, fa_out = timed(fastai_predict)
n_fa = N * CHARS  # predict emits one token (one char) per step
ms_ours, ms_fa = 1000 * t_ours / max(1, n_ours), 1000 * t_fa / n_fa
print(f'AWD-LSTM char: ours {ms_ours:.3f} ms/char ({n_ours} chars), fastai learn.predict {ms_fa:.3f} ms/char; target >= 20x')

# GPT-2: the same weights in transformers' pipeline. Both sample at temperature 0.8 with no top-k/top-p filter, stop at
# eos, and are charged per character of text they produce; the pipeline gets as many new tokens as ours needed at most.
train_run('gpt2', None, sample_corpus(), runs/'bench_gpt2', 'smoke', quiet=True)
gpt = load_lm(runs/'bench_gpt2', device='cpu')
t_g, g_out = timed(lambda: gpt.generate(PROMPT, n=N, max_new_chars=CHARS, temperature=0.8, seed=0), reps=2)
n_g = sum(len(o) for o in g_out)
max_tok = min(gpt.context - 1 - len(gpt.tokenizer.encode(PROMPT)), max(len(gpt.tokenizer.encode(o)) for o in g_out) + 1)  # within n_positions
from transformers import pipeline, logging as hf_logging
hf_logging.set_verbosity_error()
pipe = pipeline('text-generation', model=gpt.hf, tokenizer=gpt.tokenizer.hf_tokenizer(), device='cpu')
def hf_gen():
    torch.manual_seed(0)
    return pipe(PROMPT, do_sample=True, temperature=0.8,
                top_k=0, top_p=1.0, max_new_tokens=max_tok, num_return_sequences=N, return_full_text=False,
                pad_token_id=gpt.tokenizer.pad_id, eos_token_id=gpt.tokenizer.eos_id)
t_p, p_out = timed(hf_gen, reps=2)
n_p = sum(len(d['generated_text']) for d in p_out)
ms_g, ms_p = 1000 * t_g / max(1, n_g), 1000 * t_p / max(1, n_p)
print(f'GPT-2 smoke: ours {ms_g:.3f} ms/char ({n_g} chars), transformers pipeline {ms_p:.3f} ms/char ({n_p} chars); target: no slower')
print(json.dumps(dict(bench='generate_awd_char_ms_per_char', value=round(ms_ours, 4), unit='ms/char', baseline=round(ms_fa, 4),
                      ratio=round(ms_fa / ms_ours, 1), note='5 samples x 200 chars; baseline fastai learn.predict, same weights')))
print(json.dumps(dict(bench='generate_gpt2_ms_per_char', value=round(ms_g, 4), unit='ms/char', baseline=round(ms_p, 4),
                      ratio=round(ms_p / ms_g, 2), note='5 samples x up to 200 chars, gpt2 smoke size; baseline transformers pipeline("text-generation"), same weights')))
