#!/usr/bin/env python3
"""Benchmark: building the standard-library corpus cold (all cores vs one), and again when nothing changed.

Targets (issue 2): cold under 180 s on 2 cores, unchanged rebuild under 10 s.
    .venv/bin/python bench/corpus.py
"""
import json, os, shutil, tempfile, time
from pathlib import Path
from codelm.data import build_corpus, bench_json

def timed(**kw):
    t = time.perf_counter(); st = build_corpus('stdlib', quiet=True, **kw); return time.perf_counter() - t, st

with tempfile.TemporaryDirectory() as d:
    cores = os.cpu_count()
    cold, st = timed(out=Path(d)/'all')
    cold1, _ = timed(out=Path(d)/'one', workers=1)
    warm, st2 = timed(out=Path(d)/'all')
    assert st2.get('up_to_date'), 'the unchanged rebuild did not hit the cache'
    n = sum(v['functions'] for v in st['splits'].values())
    print(f'stdlib corpus: {n} functions; cold {cold:.1f}s on {cores} cores (target < 180 s), '
          f'{cold1:.1f}s on 1 core; unchanged rebuild {warm:.2f}s (target < 10 s)')
    print(bench_json(dict(bench='corpus_stdlib_cold_build', value=round(cold, 2), unit='s', baseline=round(cold1, 2),
                          ratio=round(cold1 / cold, 2), note=f'{cores} workers vs 1 worker')))
    print(bench_json(dict(bench='corpus_stdlib_unchanged_rebuild', value=round(warm, 3), unit='s', baseline=round(cold, 2),
                          ratio=round(cold / warm, 1), note='content-hash check vs cold build')))
