#!/usr/bin/env python3
"""Sizes and schedule knobs at a preset's budget of training bytes: one grid run per call, patched, its final validation
bits per byte as a JSON line (the experiment behind the `cpu` preset's AWD sizes, issue 19).

    .venv/bin/python -P bench/sizes.py NAME --arch awd_qrnn --tok unigram --emb 512 --hid 512 --layers 1 >> bench/results/sizes_cpu.jsonl
    .venv/bin/python -P bench/sizes.py NAME --arch gpt2 --seq 128 --tf '{"n_layers": 2}'

It trains with `codelm.train.train_run` on the preset's budget, sample and schedule (corpus and tokenizers under --work,
built if missing), with AWD sizes (--emb/--hid/--layers), transformer sizes (--tf, JSON), one-cycle's momenta, weight
decay, warm-up share, gradient clipping and the AR/TAR penalties (--alpha/--beta) patched in. The last line is one
JSON object: the run's settings, its validation bits per byte (`bpb`), accuracy, training seconds and parameters (the rows
of bench/results/sizes_cpu.jsonl). Unless --no-baseline, the preset's own setting of the same model is trained first, side
by side on the same budget and sample, and the last line is the figure: {"bench", "value" (the run's validation bits per
byte, or masked accuracy), "unit", "baseline" (the preset's), "ratio"} with ratio above 1 when the run is better."""
import argparse, json, os, shutil, sys, time
from pathlib import Path
sys.path = [p for p in sys.path if Path(p or '.').resolve() != Path(__file__).resolve().parent]
os.environ.setdefault('CODELM_NO_BAR', '1')

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('name', help='a name for the run (its directory under --work/runs)')
    ap.add_argument('--arch', required=True); ap.add_argument('--tok', help='tokenizer kind (AWD runs)')
    ap.add_argument('--preset', default='cpu'); ap.add_argument('--work', default='sweeps/sizes')
    ap.add_argument('--emb', type=int); ap.add_argument('--hid', type=int); ap.add_argument('--layers', type=int)
    ap.add_argument('--tf', help='transformer sizes, JSON, e.g. {"n_layers": 2}')
    ap.add_argument('--lr', type=float); ap.add_argument('--bs', type=int); ap.add_argument('--seq', type=int); ap.add_argument('--budget', type=float)
    ap.add_argument('--moms', help='one-cycle momenta, e.g. 0.8,0.7,0.8'); ap.add_argument('--wd', type=float); ap.add_argument('--pct', type=float)
    ap.add_argument('--clip', type=float); ap.add_argument('--alpha', type=float); ap.add_argument('--beta', type=float)
    ap.add_argument('--corpus', help='an existing corpus directory (default: the embedded corpus, built under --work)')
    ap.add_argument('--no-baseline', action='store_true', help="do not train the preset's own setting beside the run")
    a = ap.parse_args()
    import codelm.awd as awd, codelm.train as tr
    from codelm.arch import ARCHS
    from codelm.data import build_corpus
    from codelm.tokenization import train_tokenizers
    from fastai.learner import Learner
    from fastai.callback.rnn import RNNRegularizer
    from fastai.callback.training import GradientClip
    work = Path(a.work); corpus, toks = Path(a.corpus or work/'corpus'), work/'tokenizers'
    if not (corpus/'stats.json').exists(): build_corpus('stdlib', corpus, quiet=True)
    if not toks.exists(): train_tokenizers(corpus, out=toks, preset=a.preset, quiet=True)
    def train(name):
        out = work/'runs'/name; shutil.rmtree(out, ignore_errors=True); t = time.time()
        cfg = tr.train_run(a.arch, a.tok, corpus, out, a.preset, tokenizers_dir=toks, quiet=True, bs=a.bs, lr=a.lr, seq_len=a.seq, budget_mb=a.budget)
        f = cfg['final']
        return dict(valid_loss=f.get('valid_loss'), acc=f.get('accuracy'), bpb=f.get('bpb'), train_s=cfg['train_seconds'], wall=round(time.time() - t, 1), params=cfg['params'])
    patched = [k for k in ('emb', 'hid', 'layers', 'tf', 'moms', 'wd', 'pct', 'clip', 'alpha', 'beta', 'lr', 'bs', 'seq') if getattr(a, k) is not None]
    base = None
    if patched and not a.no_baseline:  # the preset's own setting first, before anything is patched (rates, batch and context as given)
        lr_, bs_, seq_ = a.lr, a.bs, a.seq; a.lr = a.bs = a.seq = None
        base = train(f'{a.name}-baseline'); a.lr, a.bs, a.seq = lr_, bs_, seq_
    sizes = ARCHS[a.arch].sizes  # the architecture's entry in the registry: preset -> sizes (AWD: tokenizer kind -> sizes)
    if a.emb or a.hid or a.layers:
        s = awd.awd_sizes(a.preset, a.tok, a.arch)
        sizes[a.preset] = dict(sizes[a.preset], **{a.tok or 'default': dict(s, emb_sz=a.emb or s['emb_sz'], n_hid=a.hid or s['n_hid'], n_layers=a.layers or s['n_layers'])})
    if a.tf: sizes[a.preset] = dict(sizes[a.preset], **json.loads(a.tf))
    orig = Learner.fit_one_cycle
    def fit_one_cycle(self, n, lr, *args, **kw):
        if a.moms: kw['moms'] = tuple(float(x) for x in a.moms.split(','))
        if a.wd is not None: kw['wd'] = a.wd
        if a.pct is not None: kw['pct_start'] = a.pct
        if a.clip: kw['cbs'] = list(kw.get('cbs') or []) + [GradientClip(a.clip)]
        for cb in self.cbs:
            if isinstance(cb, RNNRegularizer):
                if a.alpha is not None: cb.alpha = a.alpha
                if a.beta is not None: cb.beta = a.beta
        return orig(self, n, lr, *args, **kw)
    Learner.fit_one_cycle = fit_one_cycle
    r = dict(name=a.name, args={k: v for k, v in vars(a).items() if v is not None and k not in ('name', 'work', 'corpus', 'no_baseline')}, **train(a.name))
    print(json.dumps(r), flush=True)
    if base is not None:
        masked = r['bpb'] is None
        v, b = (r['acc'], base['acc']) if masked else (r['bpb'], base['bpb'])
        from codelm.data import bench_json
        print(bench_json(dict(bench=f'sizes/{a.name}', value=v, unit='masked accuracy (valid)' if masked else 'bits/byte (valid)', baseline=b,
                              ratio=(v / b) if masked else (b / v), seconds=r['train_s'], baseline_seconds=base['train_s'])), flush=True)

if __name__ == '__main__': main()
