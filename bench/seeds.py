#!/usr/bin/env python3
"""Training noise (issue 38, point 2): chosen runs of a preset trained again with other seeds on the same training text, each
scored on the same test functions, the spread of test bits per byte beside the bootstrap interval over functions.

    .venv/bin/python bench/seeds.py [--preset cpu] [--runs runs] [--only awd_qrnn-unigram,awd_lstm-char,awd_qrnn-char,gpt2] [--seeds 1,2]

The registry's own run (RUNS/<preset>/<run>, the preset's seed, as `make run` trained it) is the first seed; it is trained here
when missing. Each other seed trains into RUNS/<preset>-seeds/<run>-seed<k>/ with `train_run(seed=k, sample_seed=<the
preset's seed>)`: the same 1.5 MB of training text (and validation sample), another initialisation, dropout and order. Every
seed is scored with `score_functions` on the test functions `codelm eval` scores (the whole test split for a causal model,
the seeded sample for a masked one). Writes RUNS/<preset>/seeds.json, which the report reads (`read_seeds`): each run's
spread over seeds beside its bootstrap interval, and which comparisons are within training noise.

One JSON line per run: value = standard deviation over seeds of test bits per byte; baseline = half the width of the
registry run's 95% bootstrap interval over functions (the test-sample noise the report already prints); ratio = baseline /
value (above 1: the bootstrap interval is the wider of the two noises; below 1: training noise is). Time on a 2-core CPU:
about 500 s of training per seed for the four default runs at the `cpu` preset, plus scoring.
"""
import argparse, json, math, statistics, sys, time
from pathlib import Path
from codelm.data import bench_json, machine_info, read_split, atomic_write
from codelm.train import train_run, preset, SEED_MAX, run_finished, read_meta
from codelm.experiment import select_runs
from codelm.evaluate import select_test_functions, score_functions
from codelm.inference import load_lm
from codelm.rundir import RunError

DEFAULT_RUNS = 'awd_qrnn-unigram,awd_lstm-char,awd_qrnn-char,gpt2'  # the best run, both char runs, GPT-2 (the four)

def bad_arg(flag, msg):
    "Exit with a one-line error naming `flag` (exit status 2, as argparse's own errors)."
    print(f'bench/seeds.py: {flag}: {msg}', file=sys.stderr)
    sys.exit(2)

def parse_seeds(text:str, own:int) -> list[int]:
    "The --seeds list: comma-separated integers from 0 to SEED_MAX, other than the preset's own seed, each once."
    parts = [p.strip() for p in text.split(',') if p.strip()]
    if not parts: bad_arg('--seeds', f'{text!r}: expected one or more integers separated by commas, e.g. 1,2')
    out = []
    for p in parts:
        try: k = int(p)
        except ValueError: bad_arg('--seeds', f'{p!r} is not an integer (expected e.g. 1,2)')
        if not 0 <= k <= SEED_MAX: bad_arg('--seeds', f'{k}: expected 0 to {SEED_MAX}')
        if k == own: bad_arg('--seeds', f"{k} is the preset's own seed: the registry's run is that seed already")
        if k in out: bad_arg('--seeds', f'{k} is given twice')
        out.append(k)
    return out

def score_run(run:Path, corpus, seed:int=0) -> dict:
    "Test bits per byte of `run` on the functions `codelm eval` scores (its seeded sample for a masked model)."
    lm = load_lm(run)
    every = [r['code'] for r in read_split(corpus, 'test')]
    sel = select_test_functions(len(every), None, 40 if lm.pseudo else None, seed)
    sc = score_functions(lm, [every[i] for i in sel['idx']], seed=seed)
    return dict(bpb=round(sc['bpb'], 4), ci=sc['bpb_ci'], functions=len(sel['idx']), bytes=sum(sc['function_bytes']))

def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--preset', default='cpu', help='the preset whose runs to train again (default cpu)')
    p.add_argument('--runs', default='runs', help='the runs directory `codelm run` wrote (default runs)')
    p.add_argument('--corpus', default=None, help="the corpus (default: the registry run's)")
    p.add_argument('--only', default=DEFAULT_RUNS, help=f'runs of the grid, comma-separated (default {DEFAULT_RUNS})')
    p.add_argument('--seeds', default='1,2', help="the other seeds, comma-separated integers (default 1,2; the preset's own seed is the registry's run)")
    a = p.parse_args()
    try: pr = preset(a.preset)
    except Exception as e: bad_arg('--preset', str(e))
    own = pr['seed']
    seeds = parse_seeds(a.seeds, own)
    try: sel = select_runs(a.only)
    except RunError as e: bad_arg('--only', str(e).removeprefix(f'--only {a.only}: '))
    reg = Path(a.runs)/a.preset; extra = Path(a.runs)/f'{a.preset}-seeds'
    corpus = a.corpus
    if corpus is None:
        metas = [read_meta(reg/n) for n, _, _ in sel if run_finished(reg/n)]
        if not metas: bad_arg('--corpus', f'no finished run of {a.only} in {reg} to take the corpus from: run `make run` first, or pass --corpus DIR')
        corpus = metas[0]['corpus']
    if not (Path(corpus)/'test.jsonl.gz').exists(): bad_arg('--corpus', f'{corpus}: no test split (test.jsonl.gz)')
    toks = reg/'tokenizers'
    out_file = reg/'seeds.json'
    old = json.loads(out_file.read_text()) if out_file.exists() else {}
    res, lines = dict(old.get('runs') or {}), []
    for name, arch, tok in sel:
        per = []
        for k in [own] + seeds:
            d = reg/name if k == own else extra/f'{name}-seed{k}'
            t0 = time.time()
            train_run(arch, tok, corpus, d, a.preset, seed=k, sample_seed=own, tokenizers_dir=toks if toks.exists() else None, quiet=True)
            t_train = time.time() - t0
            s = score_run(d, corpus)
            print(f'{name} seed {k}: {s["bpb"]:.4f} bits/byte ({s["ci"][0]:.3f}-{s["ci"][1]:.3f}) on {s["functions"]} functions; '
                  f'{t_train:.0f} s training (0 if it was there), {time.time() - t0 - t_train:.0f} s scoring', flush=True)
            per.append((k, s))
        bpbs = [s['bpb'] for _, s in per]
        sd = statistics.stdev(bpbs) if len(bpbs) > 1 else 0.0
        ci = per[0][1]['ci']
        res[name] = dict(seeds=[k for k, _ in per], bpb=bpbs, mean=round(statistics.fmean(bpbs), 4), sd=round(sd, 4),
                         min=min(bpbs), max=max(bpbs), bootstrap_ci=ci, functions=per[0][1]['functions'], sample_seed=own)
        half = (ci[1] - ci[0]) / 2
        lines.append(dict(bench=f'seed_noise_{a.preset}_{name}', value=round(sd, 4), unit='bits/byte, sd over seeds', baseline=round(half, 4),
                          ratio=round(half / sd, 2) if sd else None,
                          note=f'{len(bpbs)} seeds {[k for k, _ in per]} on the same training text: {", ".join(f"{b:.4f}" for b in bpbs)} '
                               f'(range {max(bpbs) - min(bpbs):.4f}); baseline: half the 95% bootstrap interval over test functions of the seed-{own} run'))
        atomic_write(out_file, json.dumps(dict(preset=a.preset, corpus=str(corpus), machine=machine_info(), runs=res), indent=2))
    print(f'wrote {out_file}')
    for l in lines: print(bench_json(l))

if __name__ == '__main__': main()
