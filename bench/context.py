#!/usr/bin/env python3
"""What the headline comparison conditions on (issue 19): the models against xz, and validation against test.

    .venv/bin/python -P bench/context.py --runs runs/cpu --corpus corpus/stdlib

`codelm eval` scores each test function on its own (the model starts from the end-of-text token: no other test function
is context), while "xz with no context" compresses the test split as one stream, so every function after the first is
compressed with the ones before it as context. This script measures how much of xz's figure comes from that: xz of the
split as one stream (the report's baseline) against xz of each function alone (raw LZMA2, no container, summed), on the
valid and the test split. And, for every causal run of a registry, its bits per byte on the 20 KB validation sample that
training and the sweeps read, on the whole valid split, and on the test split (from its metrics.json), to show whether the
sample predicts the test figure. Prints a table, then one JSON object per figure:
  xz_stream_over_per_function_<split>: value = xz per function alone, baseline = xz of the split as one stream;
  valid_over_test_<run>: value = the run's whole-valid-split bpb, baseline = its test bpb (ratio > 1: test is harder).
"""
import argparse, json, lzma, os, sys
from pathlib import Path
sys.path = [p for p in sys.path if Path(p or '.').resolve() != Path(__file__).resolve().parent]
os.environ.setdefault('CODELM_NO_BAR', '1')

RAW = [dict(id=lzma.FILTER_LZMA2, preset=9 | lzma.PRESET_EXTREME, dict_size=1 << 20)]  # a function is far below 1 MiB

def xz_per_function_bits(functions) -> float:
    "Bits xz (raw LZMA2, no container) needs for each function alone, summed."
    return sum(8 * len(lzma.compress(f, format=lzma.FORMAT_RAW, filters=RAW)) for f in functions)

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--runs', default='runs/cpu', help='a registry of finished, evaluated runs (default runs/cpu)')
    ap.add_argument('--corpus', default='corpus/stdlib', help='their corpus (default corpus/stdlib)')
    a = ap.parse_args()
    from codelm.evaluate import xz_conditional_bpb, split_bytes, score_functions
    from codelm.inference import load_lm
    from codelm.loaders import sample_texts, split_texts
    figs = []
    for split in ('valid', 'test'):
        fs = split_bytes(a.corpus, split); n = sum(map(len, fs))
        stream, alone = xz_conditional_bpb(b'', b''.join(fs)), xz_per_function_bits(fs) / n
        print(f'{split:5s} {len(fs)} functions, {n:,} bytes: xz of the split as one stream {stream:.3f} bits/byte, xz of each function alone {alone:.3f}')
        figs.append(dict(bench=f'xz_stream_over_per_function_{split}', value=round(alone, 4), unit='bits/byte', baseline=round(stream, 4), ratio=round(alone / stream, 3)))
    whole = split_texts(a.corpus, 'valid')
    print(f"{'run':18s} {'valid sample':>12s} {'whole valid':>12s} {'test':>7s}")
    for r in sorted(p for p in Path(a.runs).iterdir() if (p/'metrics.json').exists()):
        meta = json.loads((r/'codelm.json').read_text())
        if meta['family'] != 'causal': continue
        vs = meta['valid_sample']
        small = sample_texts(a.corpus, dict(split='valid', max_bytes=vs['max_bytes'], seed=vs['seed']))
        lm = load_lm(r, device='cpu')
        s, w, t = score_functions(lm, small)['bpb'], score_functions(lm, whole)['bpb'], json.loads((r/'metrics.json').read_text())['bpb']
        print(f'{r.name:18s} {s:12.3f} {w:12.3f} {t:7.3f}')
        figs.append(dict(bench=f'valid_over_test_{r.name}', value=round(w, 4), unit='bits/byte', baseline=round(t, 4), ratio=round(t / w, 3)))
    from codelm.data import bench_json
    for f in figs: print(bench_json(f))

if __name__ == '__main__': main()
