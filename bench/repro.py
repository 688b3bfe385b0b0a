#!/usr/bin/env python3
"""Reproducibility across CPUs (issue 38, point 3): the same run, seed and data under the kernels of two CPU kinds, and what
makes them agree.

One machine stands in for both kinds: torch picks its kernels by CPU feature, and the environment can cap them to what an
AVX2-only CPU (the Zen 3 EPYC) has: `ATEN_CPU_CAPABILITY=avx2` (ATen's vectorised operations: 8 floats a vector instead of
16, so sums and softmaxes add in another order), `ONEDNN_MAX_CPU_ISA=AVX2` (oneDNN's LSTM and matmul kernels) and
`MKL_CBWR=AVX2` (MKL's GEMM, which otherwise picks its kernel, and its summation order, by CPU). Each configuration trains
the same short run in a fresh process (`train_run`, AWD-LSTM + char at the `cpu` preset's sizes, a small budget, the
registry's tokenizer) and records: the training sample (the data order's input), the learning rate `lr_find` chose, the
final validation loss and a hash of the weights. Then it reports which configurations are bit-identical and how far apart
the others are.

    .venv/bin/python bench/repro.py [--runs runs] [--budget-mb 0.1] [--arch awd_lstm] [--tokenizer char]

The last lines: one JSON object per configuration: value = |valid loss - the reference's| (0: bit-identical weights give 0),
baseline = the reference's valid loss, ratio = null (a difference, not a speed).
"""
import argparse, hashlib, json, os, subprocess, sys, tempfile
from pathlib import Path

CHILD = r"""
import hashlib, json, os, sys, torch
cfg = json.loads(sys.argv[1])
if cfg.get('threads'): torch.set_num_threads(cfg['threads'])
if cfg.get('deterministic'): torch.use_deterministic_algorithms(True)
from codelm.train import train_run, read_history
from safetensors.torch import load_file
c = train_run(cfg['arch'], cfg['tokenizer'], cfg['corpus'], cfg['out'], 'cpu', budget_mb=cfg['budget_mb'],
              tokenizers_dir=cfg['toks'], quiet=True)
w = load_file(os.path.join(cfg['out'], 'model.safetensors'))
h = hashlib.sha256()
for k in sorted(w): h.update(k.encode()); h.update(w[k].float().numpy().tobytes())
hist = read_history(os.path.join(cfg['out'], 'history.csv'))
ep = hist[hist['row'] == 'epoch']
print(json.dumps(dict(lr=c.get('lr'), lr_find=c.get('lr_find'), valid_loss=float(ep['valid_loss'].iloc[-1]), weights=h.hexdigest()[:16],
                      train_sample=c.get('train_sample'), capability=torch.backends.cpu.get_cpu_capability(), threads=torch.get_num_threads())))
"""

AVX2 = dict(ATEN_CPU_CAPABILITY='avx2', ONEDNN_MAX_CPU_ISA='AVX2')
CONFIGS = [  # name, environment, threads, deterministic algorithms
    ('this CPU, 2 threads', {}, 2, False),
    ('this CPU, 2 threads, again', {}, 2, False),
    ('capped to AVX2 (as on the Zen 3), 2 threads', AVX2, 2, False),
    ('this CPU, 1 thread', {}, 1, False),
    ('capped to AVX2, 1 thread', AVX2, 1, False),
    ('this CPU, deterministic algorithms', {}, 2, True),
    ('capped to AVX2 + MKL_CBWR=AVX2, 2 threads', dict(AVX2, MKL_CBWR='AVX2'), 2, False),
]

def main():
    from codelm.data import bench_json, machine_line
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--runs', default='runs', help='the runs directory of `make run` (its cpu tokenizers and corpus)')
    p.add_argument('--budget-mb', type=float, default=0.1, help='training text per configuration (default 0.1 MB)')
    p.add_argument('--arch', default='awd_lstm'); p.add_argument('--tokenizer', default='char')
    a = p.parse_args()
    if not a.budget_mb > 0: print('bench/repro.py: --budget-mb: expected a positive number of MB', file=sys.stderr); sys.exit(2)
    reg = Path(a.runs)/'cpu'; toks = reg/'tokenizers'
    metas = [json.loads((d/'codelm.json').read_text()) for d in sorted(reg.glob('*')) if (d/'codelm.json').exists()]
    if not toks.exists() or not metas: print(f'bench/repro.py: --runs: no cpu registry with tokenizers in {reg}: run `make run` first', file=sys.stderr); sys.exit(2)
    corpus = metas[0]['corpus']
    res = []
    with tempfile.TemporaryDirectory() as d:
        for i, (name, env, threads, det) in enumerate(CONFIGS):
            cfg = dict(arch=a.arch, tokenizer=a.tokenizer, corpus=corpus, out=str(Path(d)/f'run{i}'), budget_mb=a.budget_mb, toks=str(toks),
                       threads=threads, deterministic=det)
            e = {k: v for k, v in os.environ.items() if k not in ('ATEN_CPU_CAPABILITY', 'ONEDNN_MAX_CPU_ISA', 'MKL_CBWR')}
            e.update(env, CODELM_NO_BAR='1')
            r = subprocess.run([sys.executable, '-c', CHILD, json.dumps(cfg)], capture_output=True, text=True, env=e)
            if r.returncode: print(f'{name}: failed: {r.stderr.strip().splitlines()[-1:]}', flush=True); continue
            out = json.loads(r.stdout.strip().splitlines()[-1])
            res.append((name, env, out))
            print(f"{name:52s} kernels {out['capability']:8s} lr {out['lr']:.3g}  valid loss {out['valid_loss']:.6f}  weights {out['weights']}", flush=True)
    ref = res[0][2]
    same_data = all(o['train_sample'] == ref['train_sample'] for _, _, o in res)
    print(f'\nthe same training sample in every configuration: {same_data}; machine: {machine_line()}')
    lines = []
    for name, env, o in res[1:]:
        same = o['weights'] == ref['weights']
        print(f"{name}: {'bit-identical to' if same else 'differs from'} the first" + ('' if same else f" (valid loss {o['valid_loss'] - ref['valid_loss']:+.2e}, lr {o['lr']:.3g} vs {ref['lr']:.3g})"))
        lines.append(dict(bench='repro_' + name.split(':')[0].replace(' ', '_').replace(',', '').replace('(', '').replace(')', ''),
                          value=abs(o['valid_loss'] - ref['valid_loss']), unit='|valid loss difference| (nats per token)', baseline=ref['valid_loss'], ratio=None,
                          note=f"{name} against '{res[0][0]}': weights {'bit-identical' if same else 'differ'}; lr {o['lr']:.4g} vs {ref['lr']:.4g}; env {env}"))
    cap = {n: o['weights'] for n, _, o in res if n.startswith('capped to AVX2')}
    print(f"capped to AVX2, with and without MKL_CBWR / 1 or 2 threads: {len(set(cap.values()))} distinct weight hashes among {len(cap)}")
    for l in lines: print(bench_json(l))

if __name__ == '__main__': main()
