#!/usr/bin/env python3
"""Benchmark: training tokens/s of every architecture at the `cpu` preset sizes, in one run, with parameter counts.

Each model trains inside its fastai Learner the way `codelm train` runs it (fit_one_cycle, History) and, as the baseline measured side by side,
the same model, on the same batches, in a plain PyTorch loop (AdamW, no callbacks): the ratio is fastai's speed over the
plain loop's (1.0 = no overhead). Rounds alternate the two and the best round of each counts, to damp the noise of a
shared machine. Tokens are the non-padding input tokens of a step.
    .venv/bin/python bench/train_speed.py [--steps 4] [--rounds 2] [--threads N] [--device cpu|cuda] [--preset cpu|paper]
        [--archs gpt2,bert,roberta,awd_lstm,awd_qrnn]
"""
import argparse, json, os, sys, time
from pathlib import Path
sys.path = [p for p in sys.path if Path(p or '.').resolve() != Path(__file__).resolve().parent]  # bench/tokenizers.py would shadow the `tokenizers` package
import torch
from fastai.basics import Callback, CancelFitException, DataLoaders, Adam
from codelm.data import sample_corpus, read_split, bench_json
from codelm.tokenization import train_tokenizer, vocab_size_for
from codelm.transformer import transformer_learner, transformer_sizes, LMLoss
from codelm.arch import get_arch, arch_names
from codelm.train import History

p = argparse.ArgumentParser()
p.add_argument('--steps', type=int, default=4, help='timed optimizer steps per round (after 2 warm-up steps)')
p.add_argument('--rounds', type=int, default=2)
p.add_argument('--archs', default='gpt2,bert,roberta,awd_lstm,awd_qrnn')
p.add_argument('--preset', default='cpu')
p.add_argument('--threads', type=int, help="torch CPU threads (default: torch's); 1 is steadier on a machine shared with other jobs")
p.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu', help='cpu or cuda (default: cuda when present)')
args = p.parse_args()
if args.device not in ('cpu', 'cuda'): sys.exit(print(f'--device {args.device}: expected cpu or cuda', file=sys.stderr) or 2)
if args.device == 'cuda' and not torch.cuda.is_available(): sys.exit(print('--device cuda: this machine has no CUDA GPU', file=sys.stderr) or 2)
from fastai.torch_core import defaults
defaults.use_cuda = args.device == 'cuda'  # where fastai's loaders put the batches (and the Learner the model)
if args.threads: torch.set_num_threads(args.threads)
WARM = 2
def sync():
    if args.device == 'cuda': torch.cuda.synchronize()  # GPU kernels run asynchronously: time what has finished

class Timer(Callback):
    "Time `n` training steps after `warm` warm-up steps, counting non-padding input tokens; then stop."
    order = 99
    def __init__(self, n, warm, pad_id): self.n, self.warm, self.pad_id, self.i, self.ntok = n, warm, pad_id, 0, 0
    def before_fit(self): self.i, self.ntok = 0, 0
    def after_batch(self):
        if not self.training: return
        self.i += 1
        if self.i == self.warm: sync(); self.t0 = time.perf_counter()
        elif self.i > self.warm:
            x = self.xb[0]; self.ntok += int((x != self.pad_id).sum()) if self.pad_id is not None else x.numel()
            if self.i == self.warm + self.n: sync(); self.secs = time.perf_counter() - self.t0; raise CancelFitException()

def fastai_speed(learn, pad_id):
    "codelm's loop: fit_one_cycle with the callbacks `codelm train` adds per step (History; Curve's validations are measurements, not loop overhead)."
    t = Timer(args.steps, WARM, pad_id)
    with learn.no_bar(), learn.no_logging(): learn.fit_one_cycle(1, 1e-4, cbs=[t, History('unfrozen', 1.0, [])])
    return t.ntok / t.secs

def plain_speed(model, dl, pad_id, forward):
    "The same steps in a plain PyTorch loop."
    model = model.to(args.device).train()
    opt, tok = torch.optim.AdamW(model.parameters(), lr=1e-4), 0
    for i, (x, y) in enumerate(dl):
        if i == WARM: sync(); t0 = time.perf_counter()
        loss = forward(model, x, y); loss.backward(); opt.step(); opt.zero_grad()
        if i >= WARM: tok += int((x != pad_id).sum()) if pad_id is not None else x.numel()
        if i + 1 == WARM + args.steps: sync(); return tok / (time.perf_counter() - t0)
    raise SystemExit(f'not enough batches for {WARM + args.steps} steps: pass a smaller --steps')

def n_params(model): return sum(p.numel() for p in model.parameters())

def report(name, n, fa, pl, note):
    print(f'{name:9s} {n/1e6:6.2f}M params  fastai {fa:8.0f} tok/s  plain PyTorch {pl:8.0f} tok/s  ({note})', flush=True)
    return dict(bench=f'train_tokens_per_s_{name}', value=round(fa, 1), unit='tokens/s', baseline=round(pl, 1),
                ratio=round(fa / pl, 3), params=n, note=f'{note}; baseline: the same model and batches in a plain PyTorch loop')

corpus = sample_corpus()
texts = {s: [r['code'] for r in read_split(corpus, s)] for s in ('train', 'valid')}
toks = {k: train_tokenizer(k, corpus, vocab_size_for(k, preset=args.preset)) for k in ('bytebpe', 'wordpiece')}
archs = [a.strip() for a in args.archs.split(',') if a.strip()]
lines = []
print(f'torch {torch.__version__} on {args.device}' + (f' ({torch.cuda.get_device_name()})' if args.device == 'cuda' else '') + f', {torch.get_num_threads()} threads, load average {os.getloadavg()[0]:.1f}; '
      f'{args.rounds} rounds of {args.steps} steps, best round counts', flush=True)

for arch in [a for a in archs if a in arch_names(code='transformer')]:
    tok = toks[get_arch(arch).tokenizers[0]]
    size = transformer_sizes(arch, args.preset)
    pad = tok.pad_id if arch != 'gpt2' else None
    fa = pl = 0
    for r in range(args.rounds):
        learn = transformer_learner(arch, tok, texts, args.preset, seed=r)
        fa = max(fa, fastai_speed(learn, pad))
        base = transformer_learner(arch, tok, texts, args.preset, seed=r)
        pl = max(pl, plain_speed(base.model, base.dls.train, pad, lambda m, x, y: LMLoss()(m(x), y)))
    lines.append(report(arch, n_params(learn.model), fa, pl,
                        f"{size['n_layers']} layers, d {size['d_model']}, ctx {size['ctx']}, bs {learn.step_bs}, vocab {tok.vocab_size} ({tok.kind})"))

# ---- AWD-LSTM / AWD-QRNN (codelm.awd, issue 4) ------------------------------------------------------------------
awd = [a for a in archs if a in arch_names(code='awd')]
if awd:
    from codelm.awd import awd_lm_learner
if awd:
    from fastai.text.data import LMDataLoader
    tok, bs, sl = toks['bytebpe'], 16, 72   # fastai's default bptt; the AWD preset has no batch/context of its own
    ids = {s: [torch.tensor(i) for i in tok.encode_batch(t)] for s, t in texts.items()}
    def awd_dls(seed):
        torch.manual_seed(seed)
        dls = DataLoaders(LMDataLoader(ids['train'], bs=bs, seq_len=sl, shuffle=True), LMDataLoader(ids['valid'], bs=bs, seq_len=sl))
        dls.vocab = tok.vocab
        return dls
    def awd_forward(m, x, y):
        return torch.nn.functional.cross_entropy(m(x)[0].reshape(-1, len(tok.vocab)), y.reshape(-1))
    from codelm.awd import awd_sizes
    # every AWD size the preset uses: its default (the char models) and each tokenizer kind's own (the entry's sizes)
    shapes = {}
    for kind in (None, 'word', 'unigram', 'bpe', 'char'): shapes.setdefault(tuple(awd_sizes(args.preset, kind).items()), kind)
    for arch in awd:
        for items, kind in shapes.items():
            s = dict(items)
            fa = pl = 0
            for r in range(args.rounds):
                learn = awd_lm_learner(awd_dls(r), arch, s)
                fa = max(fa, fastai_speed(learn, None))
                base = awd_lm_learner(awd_dls(r), arch, s)
                base.model.reset()
                pl = max(pl, plain_speed(base.model, base.dls.train, None, awd_forward))
            lines.append(report(arch if kind is None else f"{arch}_{s['emb_sz']}x{s['n_layers']}", n_params(learn.model), fa, pl,
                                f"emb {s['emb_sz']}, hidden {s['n_hid']}, {s['n_layers']} layers, bptt {sl}, bs {bs}, vocab {len(tok.vocab)}"
                                + ('' if kind is None else f" (the {args.preset} preset's size for {', '.join(k for k in ('word', 'unigram', 'bpe') if awd_sizes(args.preset, k) == s)})")))

for l in lines: print(bench_json(l))
