#!/usr/bin/env python3
"""Issue 33, point 1: what bf16 autocast buys on this CPU, for the two kinds of model the `cpu` preset trains.

Times a forward+backward step, fp32 against bf16 autocast, of
  - GPT-2 at the `cpu` preset's size (1 layer, 384 wide, context 64, batch 16, vocab 4,096), and
  - an LSTM at the AWD-LSTM `cpu` size for subwords (emb 512, hidden 512, bptt 70, batch 8) with its softmax over 4,096,
    where oneDNN has bf16 kernels; where it has none (a CPU with AVX2 only: its LSTM refuses bf16), the alternative to
    refusing: the LSTM in fp32 inside the autocast region (what torch does for an op it has no lower-precision kernel for).
Run it twice to see both CPU kinds on one machine with AVX-512: as it is, and with oneDNN and ATen capped to AVX2:
    .venv/bin/python bench/precision.py
    ONEDNN_MAX_CPU_ISA=AVX2 ATEN_CPU_CAPABILITY=avx2 .venv/bin/python bench/precision.py
Each JSON line: value = bf16 ms per step, baseline = fp32 ms per step, ratio = fp32 / bf16 (above 1: bf16 is faster).
"""
import argparse, json, sys, time
from pathlib import Path
sys.path = [p for p in sys.path if Path(p or '.').resolve() != Path(__file__).resolve().parent]
import torch
import torch.nn.functional as F

V = 4096

def step_ms(fn, steps):
    "Best of `steps` timed calls of `fn` after one warm-up, in ms."
    fn(); best = float('inf')
    for _ in range(steps):
        t = time.perf_counter(); fn(); best = min(best, time.perf_counter() - t)
    return best * 1e3

def gpt2_step(bf16):
    from transformers import GPT2Config, GPT2LMHeadModel
    torch.manual_seed(0)
    m = GPT2LMHeadModel(GPT2Config(vocab_size=V, n_positions=64, n_embd=384, n_layer=1, n_head=6, n_inner=1536)).train()
    ids = torch.randint(0, V, (16, 64))
    def run():
        m.zero_grad(set_to_none=True)
        with torch.autocast('cpu', dtype=torch.bfloat16, enabled=bf16): loss = m(input_ids=ids, labels=ids).loss
        loss.backward()
    return run

class LSTMLM(torch.nn.Module):
    def __init__(self, fp32_rnn):
        super().__init__()
        self.emb, self.rnn, self.out, self.fp32_rnn = torch.nn.Embedding(V, 512), torch.nn.LSTM(512, 512, batch_first=True), torch.nn.Linear(512, V), fp32_rnn
    def forward(self, x):
        e = self.emb(x)
        if self.fp32_rnn:
            with torch.autocast('cpu', enabled=False): h = self.rnn(e.float())[0]
        else: h = self.rnn(e)[0]
        return self.out(h)

def lstm_step(bf16, fp32_rnn=False):
    torch.manual_seed(0)
    m, ids = LSTMLM(fp32_rnn).train(), torch.randint(0, V, (8, 71))
    def run():
        m.zero_grad(set_to_none=True)
        with torch.autocast('cpu', dtype=torch.bfloat16, enabled=bf16): logits = m(ids[:, :-1])
        F.cross_entropy(logits.float().reshape(-1, V), ids[:, 1:].reshape(-1)).backward()
    return run

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--steps', type=int, default=10, help='timed steps per setting, the best counts (default 10)')
    a = ap.parse_args()
    if a.steps < 1: ap.error(f'--steps {a.steps}: expected at least 1')
    from codelm.data import bench_json, machine_line
    from codelm.transformer import onednn_bf16, cpu_bf16_problem
    ok = onednn_bf16()
    print(f'{machine_line()}; oneDNN bf16 kernels: {"yes" if ok else "no (" + cpu_bf16_problem() + ")"}')
    figs = []
    g32, g16 = step_ms(gpt2_step(False), a.steps), step_ms(gpt2_step(True), a.steps)
    print(f'GPT-2 (cpu size) step: fp32 {g32:.1f} ms, bf16 autocast {g16:.1f} ms')
    figs.append(dict(bench='bf16_vs_fp32_gpt2_cpu_size', value=round(g16, 2), unit='ms/step', baseline=round(g32, 2), ratio=round(g32 / g16, 3),
                     note='forward+backward, batch 16 x 64 tokens; ratio above 1: bf16 is faster'))
    l32 = step_ms(lstm_step(False), a.steps)
    if ok:
        l16 = step_ms(lstm_step(True), a.steps)
        print(f'LSTM (AWD cpu size) step: fp32 {l32:.1f} ms, bf16 autocast {l16:.1f} ms')
        figs.append(dict(bench='bf16_vs_fp32_lstm_cpu_size', value=round(l16, 2), unit='ms/step', baseline=round(l32, 2), ratio=round(l32 / l16, 3),
                         note='forward+backward, batch 8 x 70 tokens, the LSTM in bf16'))
    else:
        try: lstm_step(True)(); refused = 'ran'
        except RuntimeError as e: refused = str(e).split('.')[0]
        l16 = step_ms(lstm_step(True, fp32_rnn=True), a.steps)
        print(f'LSTM (AWD cpu size) step: fp32 {l32:.1f} ms; bf16 autocast: {refused}; with the LSTM in fp32 inside autocast {l16:.1f} ms')
        figs.append(dict(bench='bf16_fp32_rnn_vs_fp32_lstm_cpu_size', value=round(l16, 2), unit='ms/step', baseline=round(l32, 2), ratio=round(l32 / l16, 3),
                         note='forward+backward, batch 8 x 70 tokens; bf16 autocast with the LSTM run in fp32 (oneDNN has no bf16 LSTM here)'))
    for f in figs: print(bench_json(f))

if __name__ == '__main__': main()
