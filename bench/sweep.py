#!/usr/bin/env python3
"""Sweep: learning rate, batch size and dropout per family at a preset's budget of training bytes; the presets take the winners.

Each setting trains one run with `codelm.train.train_run` (the preset's budget, sample and schedule; only lr / bs /
drop_mult overridden) and records its final validation bits per byte (causal) or validation loss (masked) in a JSON-lines
file, one line per run; a setting already in the file is not trained again, so an interrupted sweep resumes. The
baseline of each family, trained side by side, is the rate of lr_find's `minimum` rule (what every preset used before
the sweep); ratio = baseline / best (above 1: the sweep's winner is better).

    .venv/bin/python -P bench/sweep.py --preset cpu                              # the sweep behind the cpu preset
    .venv/bin/python -P bench/sweep.py --preset paper --corpus corpus/csn \\       # on a GPU, for the paper preset
        --runs awd_lstm-bpe,gpt2 --lr 1e-3,3e-3,1e-2 --bs 32,64 --drop-mult 0,0.3

nbs/05_train.ipynb plots the file (bench/results/sweep_<preset>.jsonl).
"""
import argparse, json, os, sys, time
from itertools import product
from pathlib import Path
sys.path = [p for p in sys.path if Path(p or '.').resolve() != Path(__file__).resolve().parent]
os.environ.setdefault('CODELM_NO_BAR', '1')

DEFAULT = {  # run -> grid (lists); the family's settings that the grid leaves out come from the preset
    'awd_qrnn-bpe': dict(lr=[3e-3, 1e-2, 3e-2], bs=[8, 16, 32], drop_mult=[0.0]),
    'gpt2': dict(lr=[5e-4, 1e-3, 2e-3], bs=[8], drop_mult=[0.0]),
    'bert': dict(lr=[5e-4, 1e-3, 2e-3], bs=[8], drop_mult=[0.0]),
    'roberta': dict(lr=[5e-4, 1e-3, 2e-3], bs=[8], drop_mult=[0.0]),
}

def floats(s, name):
    try: v = [float(x) for x in s.split(',') if x.strip()]
    except ValueError: raise SystemExit(f'--{name} {s}: expected comma-separated numbers')
    if not v: raise SystemExit(f'--{name} {s!r}: an empty range; give at least one value')
    return v

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--preset', default='cpu')
    ap.add_argument('--corpus', default='corpus/stdlib', help='a corpus directory (default: the embedded corpus, built if missing)')
    ap.add_argument('--runs', default=','.join(DEFAULT), help='grid runs to sweep (names as in `codelm run --only`)')
    ap.add_argument('--lr', help='learning rates (default: per family, see DEFAULT)')
    ap.add_argument('--bs', help='batch sizes')
    ap.add_argument('--drop-mult', help='dropout multipliers')
    ap.add_argument('--mask-p', help='masked models: shares of the training tokens masked (default: the preset\'s; validation always masks 15%%)')
    ap.add_argument('--budget-mb', type=float, help="training megabytes per run (default: the preset's)")
    ap.add_argument('--no-baseline', action='store_true', help="skip the lr_find baseline runs")
    ap.add_argument('--out', help='JSON-lines results (default bench/results/sweep_<preset>.jsonl)')
    ap.add_argument('--work', default='sweeps', help='where the sweep runs are written')
    a = ap.parse_args()
    from codelm.data import build_corpus, load_stats
    from codelm.tokenization import train_tokenizers
    from codelm.arch import get_arch
    from codelm.train import train_run, preset, run_hparams, RunError
    from codelm.experiment import select_runs
    p = preset(a.preset)
    corpus = Path(a.corpus)
    if not (corpus/'stats.json').exists(): build_corpus('stdlib', corpus, quiet=True)
    out = Path(a.out or Path(__file__).parent/'results'/f'sweep_{a.preset}.jsonl'); out.parent.mkdir(parents=True, exist_ok=True)
    done = {}
    if out.exists():
        for l in out.read_text().splitlines():
            if l.strip(): r = json.loads(l); done[r['key']] = r
    work = Path(a.work)/a.preset
    lines = []
    for name, arch, kind in select_runs(a.runs):
        g = dict(DEFAULT.get(name, DEFAULT['gpt2' if not arch.startswith('awd_') else 'awd_qrnn-bpe']))
        if arch in ('bert', 'roberta'): g.setdefault('mask_p', [run_hparams(a.preset, arch).get('mask_p') or 0.15])
        for k, v in (('lr', a.lr), ('bs', a.bs), ('drop_mult', a.drop_mult), ('mask_p', a.mask_p if arch in ('bert', 'roberta') else None)):
            if v is not None: g[k] = floats(v, k.replace('_', '-'))
        kind = kind or get_arch(arch).tokenizers[0]
        toks = work/'tokenizers'
        if not (toks/kind/'codelm_tokenizer.json').exists(): train_tokenizers(corpus, [kind], toks, preset=a.preset)
        settings = [dict(lr=lr, bs=int(bs), drop_mult=dm, **({} if mp == 0.15 else dict(mask_p=mp)))
                    for lr, bs, dm, mp in product(g['lr'], g['bs'], g['drop_mult'], g.get('mask_p', [0.15]))]
        if not a.no_baseline: settings.append(dict(lr='lr_find', bs=int(g['bs'][-1]), drop_mult=g['drop_mult'][0]))
        res = []
        for s in settings:
            key = json.dumps(dict(run=name, preset=a.preset, budget_mb=a.budget_mb or p['budget_mb'], corpus=load_stats(corpus)['fingerprint'], **s), sort_keys=True)
            if key not in done:
                tag = f"{name}_lr{s['lr']}_bs{s['bs']}_dm{s['drop_mult']}"
                t0 = time.time()
                try:
                    cfg = train_run(arch, kind, corpus, work/tag, a.preset, tokenizers_dir=toks, quiet=True, force=True, bs=s['bs'],
                                    lr=None if s['lr'] == 'lr_find' else s['lr'], lr_find=s['lr'] == 'lr_find', drop_mult=s['drop_mult'],
                                    budget_mb=a.budget_mb, mask_p=s.get('mask_p'))
                    f = cfg['final']
                    r = dict(key=key, run=name, arch=arch, tokenizer=kind, **s, lr_used=cfg['lr'], family=cfg['family'],
                             valid_bpb=f.get('bpb'), valid_loss=f.get('valid_loss'), accuracy=f.get('accuracy'),
                             train_bytes=cfg['train_sample']['bytes'], seconds=round(time.time() - t0, 1))
                except RunError as e:
                    r = dict(key=key, run=name, arch=arch, tokenizer=kind, **s, error=str(e))
                with out.open('a') as fh: fh.write(json.dumps(r) + '\n')
                done[key] = r
                print(f"{name:14s} lr {s['lr']!s:8s} bs {s['bs']:3d} drop {s['drop_mult']:.2f}" + (f" mask {s['mask_p']:.2f}" if 'mask_p' in s else '') + ': '
                      + (f"valid {'bpb' if r['family'] == 'causal' else 'loss'} {r['valid_bpb'] or r['valid_loss']:.4f} in {r['seconds']}s" if 'error' not in r else r['error']), flush=True)
            res.append(done[key])
        metric = lambda r: r.get('valid_bpb') or r.get('valid_loss') or float('inf')
        same = lambda r: {k: v for k, v in json.loads(r['key']).items() if k not in ('lr', 'bs', 'drop_mult', 'mask_p')}
        res = [r for r in done.values() if same(r) == same(res[0])] if res else res  # every setting in the file, this invocation's or earlier
        swept = [r for r in res if r['lr'] != 'lr_find' and 'error' not in r]
        if not swept: continue
        best, base = min(swept, key=metric), next((r for r in res if r['lr'] == 'lr_find' and 'error' not in r), None)
        unit = 'bits/byte (valid)' if best['family'] == 'causal' else 'loss (valid, masked positions)'
        lines.append(dict(bench=f'sweep_{a.preset}_{name}', value=round(metric(best), 4), unit=unit,
                          baseline=round(metric(base), 4) if base else None, ratio=round(metric(base) / metric(best), 3) if base else None,
                          best=dict(lr=best['lr'], bs=best['bs'], drop_mult=best['drop_mult'], **({'mask_p': best['mask_p']} if 'mask_p' in best else {})),
                          note=f"baseline: lr_find's minimum rule (lr {base['lr_used']:.2e})" if base else 'no baseline run'))
    from codelm.data import bench_json
    for l in lines: print(bench_json(l))

if __name__ == '__main__': main()
