#!/usr/bin/env python3
"""Benchmark (issue 4, point 7; issue 20, point 7), all in one run on one machine:

1. forget-mult forward+backward at batch 64, sequence 72, hidden 1152: the path `forget_mult` takes on the device (on a
   CPU the compiled kernel, or the tensor-operation fast path where no C compiler built it) against the reference loop
   (and, for scale, against a naive loop that indexes `f[:, t]`); on a GPU also the Triton kernel.
2. the fast path against the memory-traffic floor, measured in the same run: forward and backward must at least move
   nine tensors of the benchmark's shape (read f, x, write c; read dc, f, x, c, write df, dx), the traffic of three
   element-wise passes that read two such tensors and write one (`a + b` into a fresh tensor, as the forget-mult's
   outputs are), timed interleaved with the forget-mult so that both see the same cache (`time_with_floor`).
   Reported as the fraction of the floor the fast path reaches (floor time / fast-path time; 1 would be the floor).
3. training throughput (tokens/s) of AWD-QRNN against AWD-LSTM at matched sizes (emb 400, hidden 1152, 3 layers,
   drop_mult 0.3), batch 64, sequence 72, a character vocabulary of the sample corpus (~100 tokens), Adam,
   a few timed optimizer steps after warm-up; on a GPU the AWD-LSTM runs on cuDNN (`--no-train` skips it).

Targets on a 2-core CPU: fast path >= 0.7 of the memory-traffic floor; AWD-QRNN >= 1.5x AWD-LSTM.
On a GPU: AWD-QRNN >= 2x AWD-LSTM.
    .venv/bin/python bench/qrnn.py [--steps 3] [--device cpu|cuda] [--no-train]
"""
import argparse, json, sys, time
from collections import Counter
import torch
import torch.nn.functional as F
from fastai.text.models.core import get_language_model
from codelm.data import sample_corpus, read_split, bench_json
from codelm.qrnn import forget_mult, forget_mult_ref, forget_mult_fast, forget_mult_c, cpu_kernel_problem, triton_available
from codelm.awd import AWD_LSTM, AWD_QRNN, awd_config

BS, SL, NH = 64, 72, 1152
FLOOR_TARGET = 0.7  # the fast path's time should be at most 1/0.7 of the floor's

def sync(dev):
    if dev.type == 'cuda': torch.cuda.synchronize()

def time_fm(fm, dev, n, warm=1):
    "Best of `n` forward+backward passes of `fm` on (BS, SL, NH) gates, in seconds."
    g = torch.Generator().manual_seed(0)
    y = torch.randn(BS, SL, 3 * NH, generator=g).to(dev)
    f, x = torch.sigmoid(y[..., :NH]).requires_grad_(), torch.tanh(y[..., NH:2*NH]).requires_grad_()
    h0, dout = torch.zeros(BS, NH, device=dev, requires_grad=True), torch.randn(BS, SL, NH, generator=g).to(dev)
    best = float('inf')
    for i in range(warm + n):
        f.grad = x.grad = h0.grad = None
        sync(dev); t = time.perf_counter()
        fm(f, x, h0).backward(dout)
        sync(dev); dt = time.perf_counter() - t
        if i >= warm: best = min(best, dt)
    return best

def time_with_floor(fm, dev, n, warm=1):
    """Best of `n` forward+backward passes of `fm`, and of the memory-traffic floor, measured interleaved, in seconds.

    The floor is three element-wise passes that read two (BS, SL, NH) tensors and write one (`torch.add`): forward reads
    f, x and writes c; backward reads dc, f, x, c and writes df, dx. Each round times `fm`, then the three passes into
    fresh tensors (as the forget-mult must return c, df and dx as new tensors), then the three passes into tensors they
    already have; so all three see the same cache. Timed in a loop of their own, the passes over the same 64 MB run
    partly from the L3 of a large-cache CPU (a Zen 4 EPYC's 32 MB), which is not a memory floor: that measurement
    put the compiled kernel at 0.40-0.87 of the floor from run to run on one machine.
    Returns (forget-mult, floor into fresh tensors, floor into tensors it has).
    """
    g = torch.Generator().manual_seed(0)
    y = torch.randn(BS, SL, 3 * NH, generator=g).to(dev)
    f, x = torch.sigmoid(y[..., :NH]).requires_grad_(), torch.tanh(y[..., NH:2*NH]).requires_grad_()
    h0, dout = torch.zeros(BS, NH, device=dev, requires_grad=True), torch.randn(BS, SL, NH, generator=g).to(dev)
    a, b = torch.randn(BS, SL, NH, device=dev), torch.randn(BS, SL, NH, device=dev)
    have = [torch.empty_like(a) for _ in range(3)]
    best = [float('inf')] * 3
    for i in range(warm + n):
        f.grad = x.grad = h0.grad = None
        sync(dev); t = time.perf_counter()
        fm(f, x, h0).backward(dout)
        sync(dev); t_fm = time.perf_counter() - t
        f.grad = x.grad = h0.grad = None   # the fresh passes get the memory the forget-mult's outputs had
        sync(dev); t = time.perf_counter()
        fresh = [a + b for _ in range(3)]
        sync(dev); t_fresh = time.perf_counter() - t
        del fresh
        sync(dev); t = time.perf_counter()
        for c in have: torch.add(a, b, out=c)
        sync(dev); t_have = time.perf_counter() - t
        if i >= warm: best = [min(m, v) for m, v in zip(best, (t_fm, t_fresh, t_have))]
    return tuple(best)

def naive_loop(f, x, h0):
    "The forget-mult loop written with indexing (`f[:, t]`): each step's backward allocates full-size zeros."
    h, out = h0, []
    for t in range(f.shape[1]):
        h = f[:, t] * h + (1 - f[:, t]) * x[:, t]
        out.append(h)
    return torch.stack(out, 1)

def char_stream(n_vocab=100):
    "Character ids of the sample corpus's training code, the `n_vocab - 1` commonest characters (0 for the rest)."
    text = '\n'.join(r['code'] for r in read_split(sample_corpus(), 'train'))
    itos = [c for c, _ in Counter(text).most_common(n_vocab - 1)]
    stoi = {c: i + 1 for i, c in enumerate(itos)}
    return torch.tensor([stoi.get(c, 0) for c in text]), n_vocab

def train_tps(arch, stream, vocab, dev, steps, warm):
    "Training tokens/s of `arch` at the paper's sizes: `warm` then `steps` timed Adam steps on consecutive batches."
    torch.manual_seed(0)
    model = get_language_model(arch, vocab, awd_config(arch, 400, 1152, 3), drop_mult=0.3).to(dev).train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    per = len(stream) // BS
    rows = stream[:per * BS].view(BS, per).to(dev)  # fastai's LM layout: BS parallel streams
    model.reset()
    sync(dev)
    for i in range(warm + steps):
        if i == warm: sync(dev); t = time.perf_counter()
        j = (i * SL) % (per - SL - 1)
        x, y = rows[:, j:j + SL], rows[:, j + 1:j + SL + 1]
        loss = F.cross_entropy(model(x)[0].reshape(-1, vocab), y.reshape(-1))
        opt.zero_grad(); loss.backward(); opt.step()
    sync(dev)
    return BS * SL * steps / (time.perf_counter() - t), loss.item()

def bad_arg(flag, msg):
    "Exit with a one-line error naming `flag` (exit status 2, as argparse's own errors)."
    print(f'bench/qrnn.py: {flag}: {msg}', file=sys.stderr)
    sys.exit(2)

def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu', help='cpu or cuda (default: cuda when available)')
    p.add_argument('--steps', type=int, help='timed optimizer steps per model (default 3 on CPU, 20 on GPU)')
    p.add_argument('--no-train', action='store_true', help='time the forget-mult only, not the training throughput')
    a = p.parse_args()
    try: dev = torch.device(a.device)
    except RuntimeError: bad_arg('--device', f'{a.device!r} is not a device: use cpu or cuda')
    if dev.type not in ('cpu', 'cuda'): bad_arg('--device', f'{a.device!r}: use cpu or cuda')
    if dev.type == 'cuda' and not torch.cuda.is_available():
        bad_arg('--device', f'{a.device!r}: CUDA is not available on this machine (torch {torch.__version__}); use --device cpu')
    if dev.type == 'cuda' and dev.index is not None and dev.index >= torch.cuda.device_count():
        bad_arg('--device', f'{a.device!r}: this machine has {torch.cuda.device_count()} CUDA device(s)')
    if a.steps is not None and a.steps < 1: bad_arg('--steps', f'{a.steps}: must be at least 1')
    gpu = dev.type == 'cuda'
    steps, warm, n_fm = (a.steps or 20, 3, 20) if gpu else (a.steps or 3, 1, 40)  # a noisy 2-core VM: the best of 40
    where = torch.cuda.get_device_name(dev) if gpu else f'CPU, {torch.get_num_threads()} threads'
    out = []

    t_ref = time_fm(forget_mult_ref, dev, n_fm)
    why_no_c = cpu_kernel_problem(torch.zeros(1, device=dev))
    t_ops, floor_ops, _ = time_with_floor(forget_mult_fast, dev, n_fm)
    t_c, floor_c, floor_have = (None, None, None) if why_no_c else time_with_floor(forget_mult_c, dev, n_fm)
    # the path forget_mult takes on this device, and the floor measured beside it
    t_fast, floor = (t_ops, floor_ops) if t_c is None else (t_c, floor_c)
    fast_name = 'fast path (torch operations)' if t_c is None else 'compiled CPU kernel'
    t_naive = time_fm(naive_loop, dev, 2)
    if not gpu: print(f"tensor-operation fast path {t_ops*1e3:.1f} ms against a floor of {floor_ops*1e3:.1f} ms ({floor_ops / t_ops:.2f}); "
                      + (f'compiled kernel {t_c*1e3:.1f} ms against {floor_c*1e3:.1f} ms ({floor_c / t_c:.2f}); the floor into '
                         f'tensors it has, beside it, {floor_have*1e3:.1f} ms' if t_c is not None else f'no compiled kernel: {why_no_c}'))
    frac = floor / t_fast
    print(f'forget-mult fwd+bwd ({BS}x{SL}x{NH}, {where}): reference {t_ref*1e3:.1f} ms, {fast_name} {t_fast*1e3:.1f} ms '
          f'({t_ref/t_fast:.1f}x), naive indexed loop {t_naive*1e3:.0f} ms; memory-traffic floor '
          f'(3 element-wise passes over 2-in-1-out tensors) {floor*1e3:.1f} ms, i.e. at most {t_ref/floor:.1f}x over the reference; '
          f'the {fast_name} reaches {frac:.2f} of the floor (target {FLOOR_TARGET} on CPU)')
    tag = 'cuda' if gpu else 'cpu'
    out.append(dict(bench=f'forget_mult_fast_vs_floor_{tag}', value=round(frac, 3), unit='fraction of floor (floor ms / fast-path ms)',
                    baseline=round(floor * 1e3, 3), ratio=round(frac, 3),
                    note=f'{fast_name} (what forget_mult takes here) fwd+bwd {t_fast*1e3:.2f} ms, {BS}x{SL}x{NH} fp32, best of {n_fm}; baseline: the memory-traffic floor '
                         f'in ms, the best of three a + b passes over tensors of that shape, each into a fresh tensor, timed interleaved with the forget-mult; target >= {FLOOR_TARGET} on CPU'))
    if not gpu: out.append(dict(bench='forget_mult_ops_vs_floor_cpu', value=round(floor_ops / t_ops, 3), unit='fraction of floor (floor ms / fast-path ms)',
                                baseline=round(floor_ops * 1e3, 3), ratio=round(floor_ops / t_ops, 3),
                                note=f'the tensor-operation fast path (forget_mult_fast, taken without a C compiler) {t_ops*1e3:.2f} ms'))
    out.append(dict(bench=f'forget_mult_fast_vs_ref_{tag}', value=round(t_fast * 1e3, 3), unit='ms', baseline=round(t_ref * 1e3, 3),
                    ratio=round(t_ref / t_fast, 2), note=f'fwd+bwd {BS}x{SL}x{NH} fp32, best of {n_fm}; baseline: forget_mult_ref (unbind loop); '
                         f'memory-traffic floor {floor*1e3:.1f} ms (at most {t_ref/floor:.1f}x)'))
    out.append(dict(bench=f'forget_mult_fast_vs_naive_loop_{tag}', value=round(t_fast * 1e3, 3), unit='ms', baseline=round(t_naive * 1e3, 1),
                    ratio=round(t_naive / t_fast, 1), note='baseline: the loop written with f[:, t] indexing (not the reference)'))
    if gpu and triton_available():
        t_tri = time_fm(lambda f, x, h0: forget_mult(f, x, h0, impl='triton'), dev, n_fm)
        print(f'forget-mult Triton kernel {t_tri*1e3:.2f} ms ({t_ref/t_tri:.1f}x the reference)')
        out.append(dict(bench='forget_mult_triton_vs_ref_cuda', value=round(t_tri * 1e3, 3), unit='ms', baseline=round(t_ref * 1e3, 3),
                        ratio=round(t_ref / t_tri, 2), note=f'fwd+bwd {BS}x{SL}x{NH} fp32'))

    if a.no_train:
        for o in out: print(bench_json(o))
        return
    stream, vocab = char_stream()
    q, lq = train_tps(AWD_QRNN, stream, vocab, dev, steps, warm)
    l, ll = train_tps(AWD_LSTM, stream, vocab, dev, steps, warm)
    target = 2 if gpu else 1.5
    print(f'training tokens/s (emb 400, hidden 1152, 3 layers, batch {BS}, seq {SL}, vocab {vocab}, {where}): '
          f'AWD-QRNN {q:.0f}, AWD-LSTM{" (cuDNN)" if gpu else ""} {l:.0f}: {q/l:.2f}x (target {target}x); last losses {lq:.2f} / {ll:.2f}')
    out.append(dict(bench=f'awd_qrnn_vs_awd_lstm_train_{tag}', value=round(q, 1), unit='tokens/s', baseline=round(l, 1), ratio=round(q / l, 2),
                    note=f'{steps} Adam steps after {warm} warm-up, emb 400 / hidden 1152 / 3 layers, batch {BS}, seq {SL}, {where}'))
    for o in out: print(bench_json(o))

if __name__ == '__main__': main()
