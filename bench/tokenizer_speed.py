#!/usr/bin/env python3
"""Benchmark: encode throughput (MB/s of UTF-8 code) of each tokenizer kind on the test split of the sample corpus.

Each kind is trained at its `cpu` preset size on the train split. `value` is `encode_batch` over the whole test split
(what codelm.loaders uses: one call, spread over threads by SentencePiece / `tokenizers`); `baseline` is the same
tokenizer's `encode` called once per function, measured side by side in the same run; ratio = value / baseline.
Best of repeats over `--seconds` each. For scale, Python's `str.split` on the same text is printed too.
    .venv/bin/python bench/tokenizer_speed.py [--seconds 2]   (not bench/tokenizers.py: that name would shadow the `tokenizers` package for every script in bench/)
"""
import argparse, json, os, sys, time
from pathlib import Path
# this file is named like the `tokenizers` package: keep its directory off the import path
sys.path = [p for p in sys.path if Path(p or '.').resolve() != Path(__file__).resolve().parent]
from codelm.data import sample_corpus, load_split, bench_json
from codelm.tokenization import KINDS, train_tokenizers, encode_throughput

ap = argparse.ArgumentParser()
ap.add_argument('--seconds', type=float, default=2.0, help='minimum seconds of repeats per measurement')
a = ap.parse_args()

sc = sample_corpus()
texts = [r['code'] for r in load_split(sc, 'test')]
mb = sum(len(t.encode()) for t in texts) / 1e6
toks = train_tokenizers(sc, KINDS, preset='cpu')

def split_mbps():
    best, end = float('inf'), time.perf_counter() + a.seconds
    while time.perf_counter() < end:
        t = time.perf_counter(); [s.split() for s in texts]; best = min(best, time.perf_counter() - t)
    return mb / best

rows = []
for k, tok in toks.items():
    batched = encode_throughput(tok, texts, batched=True, min_seconds=a.seconds)
    single = encode_throughput(tok, texts, batched=False, min_seconds=a.seconds)
    rows.append((k, tok.vocab_size, batched, single))
print(f'test split of the sample corpus: {len(texts)} functions, {mb:.3f} MB; {os.cpu_count()} cores; cpu preset vocabularies')
print(f"{'kind':10s} {'vocab':>6s} {'batched MB/s':>13s} {'one by one MB/s':>16s} {'ratio':>6s}")
for k, n, b, s in rows: print(f'{k:10s} {n:6d} {b:13.2f} {s:16.2f} {b / s:6.2f}')
print(f"{'str.split':10s} {'':6s} {split_mbps():13.2f}   (whitespace split, for scale; not a tokenizer)")
for k, n, b, s in rows:
    print(bench_json(dict(bench=f'tokenizer_encode_{k}', value=round(b, 3), unit='MB/s', baseline=round(s, 3), ratio=round(b / s, 2),
                          note=f'{k} ({n} tokens): encode_batch of the test split vs encode one function at a time')))
