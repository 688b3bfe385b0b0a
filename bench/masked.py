#!/usr/bin/env python3
"""Why the masked models stay on their plateau (issue 19): codelm's training of BERT or RoBERTa at the `cpu` preset's budget
against the same model, batches and budget trained another way, one variant after another in one process.

    .venv/bin/python -P bench/masked.py --arch bert                  # every variant
    .venv/bin/python -P bench/masked.py --arch roberta --variants preln

Variants (each from the same seed, on the same memory-mapped batches of the preset's 1.5 MB sample, mask_p 0.4):
  codelm  the preset: `transformer_learner` + fastai's `fit_one_cycle(1, lr)` (the baseline of every figure)
  plain   a plain PyTorch loop: AdamW (betas 0.9/0.999, weight decay 0.01), linear warm-up over 6% of the steps, linear decay
  sinpos  the preset with sinusoidal position embeddings at initialisation (still trained)
  preln   pre-layer-norm blocks (transformers' RobertaPreLayerNormForMaskedLM at the same sizes) instead of post-layer-norm
Each prints a row, then one JSON figure per variant: masked accuracy on the validation sample (15% masked) against codelm's,
ratio above 1 when the variant is better."""
import argparse, json, os, sys, time
from pathlib import Path
sys.path = [p for p in sys.path if Path(p or '.').resolve() != Path(__file__).resolve().parent]
os.environ.setdefault('CODELM_NO_BAR', '1')
VARIANTS = ('codelm', 'plain', 'sinpos', 'preln')

def sinusoidal_(emb):
    "Overwrite position embedding weights `emb` with sinusoids of the same scale."
    import torch
    n, d = emb.shape; pos = torch.arange(n)[:, None]; i = torch.arange(0, d, 2)[None]
    w = torch.zeros(n, d); w[:, 0::2] = torch.sin(pos / 10000 ** (i / d)); w[:, 1::2] = torch.cos(pos / 10000 ** (i / d))
    with torch.no_grad(): emb.copy_(w * emb.std() / w.std())

def run(variant, arch, corpus, toks, lr):
    import torch, transformers as T
    from codelm.arch import get_arch
    from codelm.train import train_plan, set_seed_all, run_hparams
    from codelm.tokenization import load_tokenizer
    from codelm.transformer import transformer_learner, transformer_sizes
    tok = load_tokenizer(Path(toks)/get_arch(arch).tokenizers[0])  # the tokenizer the grid trains the arch with
    plan, hp, s = train_plan(corpus, 'cpu', arch, None, None, 42), run_hparams('cpu', arch), transformer_sizes(arch, 'cpu')
    set_seed_all(42)
    learn = transformer_learner(arch, tok, corpus, 'cpu', hp['bs'], s['ctx'], samples=dict(train=plan['train_sample'], valid=plan['valid_sample']),
                                memmap=True, mask_p=hp['mask_p'], seed=42)
    lr = lr or hp['lr']
    if variant == 'preln':
        c = T.RobertaPreLayerNormConfig(vocab_size=tok.vocab_size, hidden_size=s['d_model'], num_hidden_layers=s['n_layers'], num_attention_heads=s['n_heads'],
                                        intermediate_size=s['d_ff'], max_position_embeddings=s['ctx'] + tok.pad_id + 1, type_vocab_size=1, pad_token_id=tok.pad_id,
                                        bos_token_id=tok.bos_id, eos_token_id=tok.eos_id, hidden_dropout_prob=0., attention_probs_dropout_prob=0.)
        set_seed_all(42); learn.model.hf = T.RobertaPreLayerNormForMaskedLM(c)
        learn.opt, learn.splitter = None, lambda m: [list(m.parameters())]  # one layer group: nothing is frozen from scratch
    if variant == 'sinpos': sinusoidal_(learn.model.hf.base_model.embeddings.position_embeddings.weight)
    t = time.time()
    if variant == 'plain':
        model, n = learn.model, len(learn.dls.train); warm = max(1, int(0.06 * n))
        opt = torch.optim.AdamW(model.parameters(), lr=lr, betas=(0.9, 0.999), weight_decay=0.01)
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda k: min((k + 1) / warm, max(0., (n - k) / (n - warm))))
        model.train()
        for x, y in learn.dls.train:
            loss = learn.loss_func(model(x), y); opt.zero_grad(); loss.backward(); opt.step(); sched.step()
    else:
        with learn.no_bar(): learn.fit_one_cycle(1, lr)
    with learn.no_bar(): loss, acc = learn.validate()[:2]
    return dict(variant=variant, arch=arch, lr=lr, valid_loss=round(float(loss), 4), masked_acc=round(float(acc), 4), train_s=round(time.time() - t, 1),
                params=sum(p.numel() for p in learn.model.parameters()))

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--arch', default='bert', choices=('bert', 'roberta'))
    ap.add_argument('--variants', default=','.join(VARIANTS[1:]), help=f"comma-separated, of {', '.join(VARIANTS[1:])} (codelm's own always runs first)")
    ap.add_argument('--lr', type=float, help="learning rate (default: the preset's)")
    ap.add_argument('--corpus', default='corpus/stdlib'); ap.add_argument('--tokenizers', default='runs/cpu/tokenizers')
    a = ap.parse_args()
    vs = [v for v in a.variants.split(',') if v]
    if bad := [v for v in vs if v not in VARIANTS[1:]]: ap.error(f"--variants: unknown {', '.join(bad)}; expected some of {', '.join(VARIANTS[1:])}")
    if not vs: ap.error('--variants: expected at least one variant')
    for p, what in ((Path(a.corpus)/'stats.json', '--corpus'), (Path(a.tokenizers), '--tokenizers')):
        if not p.exists(): ap.error(f"{what} {p.parent if what == '--corpus' else p}: not found (run `make run` or `codelm corpus` / `codelm tokenizers` first)")
    rows = [run(v, a.arch, a.corpus, a.tokenizers, a.lr) for v in ['codelm', *vs]]
    for r in rows: print(json.dumps(r), flush=True)
    base = rows[0]
    for r in rows[1:]:
        from codelm.data import bench_json
        print(bench_json(dict(bench=f"masked/{a.arch}/{r['variant']}", value=r['masked_acc'], unit='masked accuracy (valid, 15% masked)',
                              baseline=base['masked_acc'], ratio=round(r['masked_acc'] / base['masked_acc'], 4))), flush=True)

if __name__ == '__main__': main()
