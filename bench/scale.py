#!/usr/bin/env python3
"""Benchmark: a CodeSearchNet-sized corpus through corpus building, tokenization and training in bounded memory.

Generates a synthetic corpus in CodeSearchNet's layout (python/final/jsonl/{train,valid,test}/python_<split>_<n>.jsonl.gz,
every CSN field, varied function bodies) of --size-mb MB of train JSONL (default 1024: about the size of CSN's Python train
split), under --dir (default /tmp/codelm_scale). Then, for the first tenth of its train shards and for all of them, each in a
fresh process so that each peak is its own:
  build     build_corpus(source='csn') with autopep8 off (the other cleaning steps on)   -> MB/s of input JSONL, peak RSS
  tokenize  the run's tokenizer (bpe, trained on a bounded sample) and token_cache        -> MB/s of code, peak RSS
  train     AWD-LSTM (cpu preset sizes) steps from the memory-mapped cache                -> tokens/s per step, peak RSS
and, as the in-memory baseline, codelm.loaders.lm_dls with memmap=False (every id of the split in memory) on the tenth.

Figures (JSON lines at the end): for memory, `value` is the peak RSS on the full corpus and `baseline` the peak on the
tenth, so `ratio` = baseline / value is 1.0 when memory does not grow with the corpus (it would be about 0.1 if it grew in
proportion); `scale_tokenize_vs_in_memory` compares our peak on the tenth with the in-memory loaders' peak on the tenth.
For speed, `value` is on the full corpus and `baseline` on the tenth.
    .venv/bin/python bench/scale.py                  # 1 GB: tens of minutes on 2 cores
    .venv/bin/python bench/scale.py --size-mb 50     # a quick run
"""
import argparse, gzip, json, os, random, re, resource, shutil, subprocess, sys, time
from pathlib import Path

WORDS = ('value item data result name path key index count total node config state buffer token line text size offset '
         'request response user client server table row column field record entry cache queue stack parent child left '
         'right start end first last prefix suffix label score weight limit options params args kwargs context').split()
VERBS = 'get set load save parse build make read write update find check compute apply merge split format render handle'.split()
DOCS = ('Return the {} of the {}.', 'Compute {} from {} and return it.', 'Load {} for the given {}.', 'Check that {} matches {}.')

def _expr(rng, names):
    a, b = rng.choice(names), rng.choice(names)
    return rng.choice([f'{a} + {b}', f'{a}[{rng.randint(0, 9)}]', f'len({a})', f'{a}.{rng.choice(WORDS)}({b})', f'{a} * {rng.randint(2, 99)}',
                       f'"{rng.choice(WORDS)}_{rng.randint(0, 999)}"', f'[{a}, {b}]', f'{{"{rng.choice(WORDS)}": {a}}}', f'{a} or {b}',
                       f'{rng.choice(VERBS)}_{rng.choice(WORDS)}({a}, {b})', f'str({a}).strip()', f'{a} is None'])

def _block(rng, names, depth, n):
    ind, out = '    ' * depth, []
    for _ in range(n):
        k = rng.random()
        if k < 0.45 or depth > 3:
            v = rng.choice(WORDS) + ('_' + rng.choice(WORDS) if rng.random() < 0.5 else '')
            out.append(f'{ind}{v} = {_expr(rng, names)}'); names.append(v)
        elif k < 0.6: out += [f'{ind}if {_expr(rng, names)}:', *_block(rng, names, depth + 1, rng.randint(1, 3))]
        elif k < 0.72:
            v = rng.choice(WORDS)
            out += [f'{ind}for {v} in {rng.choice(names)}:', *_block(rng, names + [v], depth + 1, rng.randint(1, 3))]
        elif k < 0.8: out += [f'{ind}try:', *_block(rng, names, depth + 1, 2), f'{ind}except {rng.choice(["ValueError", "KeyError", "OSError"])}:',
                              f'{ind}    {rng.choice(["pass", "return None", "raise"])}']
        elif k < 0.9: out.append(f'{ind}{rng.choice(names)}.{rng.choice(VERBS)}({_expr(rng, names)})  # {rng.choice(WORDS)}')
        else: out.append(f'{ind}yield {_expr(rng, names)}' if rng.random() < 0.2 else f'{ind}log.debug("%s", {rng.choice(names)})')
    return out

def make_function(rng, i):
    "One varied, valid Python function (with a docstring) as CodeSearchNet stores it."
    name = f'{rng.choice(VERBS)}_{rng.choice(WORDS)}' + (f'_{i % 1000}' if rng.random() < 0.5 else '')
    args = rng.sample(WORDS, rng.randint(0, 4)); names = args + ['self'] if args else ['self']
    meth = rng.random() < 0.4
    doc = rng.choice(DOCS).format(rng.choice(WORDS), rng.choice(WORDS))
    if rng.random() < 0.5: doc += '\n\n    ' + '\n    '.join(f':param {a}: the {rng.choice(WORDS)}' for a in args)
    body = _block(rng, list(names), 1, rng.randint(1, 9)) + [f'    return {_expr(rng, names)}']
    return f"def {name}({', '.join((['self'] if meth else []) + args)}):\n    \"\"\"{doc}\"\"\"\n" + '\n'.join(body) + '\n', name, doc

def csn_record(rng, i, split):
    code, name, doc = make_function(rng, i)
    repo = f'{rng.choice(WORDS)}/{rng.choice(WORDS)}-{i // 200}'
    path = f'{rng.choice(WORDS)}/{rng.choice(WORDS)}.py'
    return dict(repo=repo, path=path, func_name=name, original_string=code, language='python', code=code,
                code_tokens=re.findall(r'\w+|[^\w\s]', code), docstring=doc, docstring_tokens=re.findall(r'\w+|[^\w\s]', doc),
                sha='%040x' % rng.getrandbits(160), url=f'https://github.com/{repo}/blob/master/{path}#L1-L9', partition=split)

def generate(root:Path, size_mb:float, shards:int=10, seed:int=0) -> dict:
    "Write the synthetic CSN tree; train gets `size_mb` MB of JSONL in `shards` shards, valid and test 2% each."
    base = root/'python'/'final'/'jsonl'
    done = root/'done.json'
    if done.exists() and json.loads(done.read_text()).get('size_mb') == size_mb: return json.loads(done.read_text())
    shutil.rmtree(root, ignore_errors=True)
    rng, i, sizes = random.Random(seed), 0, {}
    for split, mb, n in (('train', size_mb, shards), ('valid', size_mb * 0.02, 1), ('test', size_mb * 0.02, 1)):
        (base/split).mkdir(parents=True, exist_ok=True); sizes[split] = []
        for k in range(n):
            with gzip.open(base/split/f'python_{split}_{k}.jsonl.gz', 'wt', compresslevel=1) as f:
                b = 0
                while b < mb * 1e6 / n:
                    line = json.dumps(csn_record(rng, i, split)) + '\n'; f.write(line); b += len(line); i += 1
            sizes[split].append(b)
    info = dict(size_mb=size_mb, records=i, bytes={s: sum(v) for s, v in sizes.items()}, shard_bytes=sizes)
    done.write_text(json.dumps(info)); return info

def tenth(root:Path, out:Path) -> Path:
    "A CSN tree with the first tenth of `root`'s train shards and the same valid and test (links)."
    shutil.rmtree(out, ignore_errors=True)
    for split in ('train', 'valid', 'test'):
        src = sorted((root/'python'/'final'/'jsonl'/split).glob('*.jsonl.gz'))
        (out/'python'/'final'/'jsonl'/split).mkdir(parents=True)
        for p in (src[:max(1, len(src) // 10)] if split == 'train' else src): os.symlink(p, out/'python'/'final'/'jsonl'/split/p.name)
    return out

def peak_mb():
    "Peak resident memory of this process (and of its largest finished child), MB."
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024

# ---- phases, each run in its own process -------------------------------------------------------------------------------
def phase_build(a):
    from codelm.data import build_corpus
    t = time.perf_counter()
    st = build_corpus('csn', a.corpus, csn_path=a.csn, autopep8=False, workers=a.workers, force=True, quiet=True)
    secs = time.perf_counter() - t
    inp = sum(p.stat().st_size for p in Path(a.csn).rglob('*.jsonl.gz'))
    raw = sum(len(l) for p in Path(a.csn).rglob('*.jsonl.gz') for l in gzip.open(p, 'rb'))
    return dict(seconds=secs, input_jsonl_MB=raw / 1e6, input_gz_MB=inp / 1e6, MBps=raw / 1e6 / secs,
                functions={s: v['functions'] for s, v in st['splits'].items()}, dedup=st['dedup']['total'], skipped=st['skipped_total'])

def _tok(a):
    from codelm.tokenization import train_tokenizer, load_tokenizer
    from codelm.train import tokenizer_texts
    if (Path(a.tok)/'codelm_tokenizer.json').exists(): return load_tokenizer(a.tok)
    return train_tokenizer('bpe', a.corpus, vocab_size=600, out=a.tok, _texts=tokenizer_texts(a.corpus, max_bytes=int(a.tok_sample_mb * 1e6)))

def phase_tokenize(a):
    from codelm.loaders import token_cache
    t = time.perf_counter(); tok = _tok(a); t_tok = time.perf_counter() - t
    t = time.perf_counter()
    metas = [json.loads((token_cache(a.corpus, s, tok)/'meta.json').read_text()) for s in ('train', 'valid')]
    secs = time.perf_counter() - t
    mb = sum(m['bytes'] for m in metas) / 1e6
    return dict(tokenizer_seconds=t_tok, seconds=secs, code_MB=mb, MBps=mb / secs, tokens=sum(m['tokens'] for m in metas))

def phase_in_memory(a):
    from codelm.loaders import lm_dls
    tok = _tok(a); t = time.perf_counter()
    dls = lm_dls('awd_lstm', tok, a.corpus, 70, 32, device='cpu')  # ids encoded in memory (memmap=False)
    secs = time.perf_counter() - t
    return dict(seconds=secs, batches=len(dls.train))

def phase_train(a):
    import torch
    from fastai.callback.core import Callback, CancelFitException
    from codelm.train import _awd_learner
    torch.set_num_threads(a.workers)
    tok = _tok(a)
    t = time.perf_counter()
    learn, _ = _awd_learner('awd_lstm', tok, a.corpus, 'cpu', 32, 70, None, None, memmap=True)
    t_setup = time.perf_counter() - t
    class Steps(Callback):
        def before_fit(self): self.times, self.ntok = [], 0
        def before_batch(self): self.t = time.perf_counter()
        def after_batch(self):
            self.times.append(time.perf_counter() - self.t); self.ntok = self.xb[0].numel()
            if len(self.times) >= a.steps: raise CancelFitException()
    cb = Steps()
    with learn.no_bar(): learn.fit(1, 1e-3, cbs=[cb])
    ts = sorted(cb.times[2:]) or cb.times  # the first steps warm up
    med = ts[len(ts) // 2]
    return dict(setup_seconds=t_setup, steps=len(cb.times), step_seconds=med, tokens_per_s=cb.ntok / med, train_batches=len(learn.dls.train))

PHASES = dict(build=phase_build, tokenize=phase_tokenize, in_memory=phase_in_memory, train=phase_train)

def run_phase(name, **kw):
    args = [sys.executable, __file__, '--phase', name] + [x for k, v in kw.items() for x in (f"--{k.replace('_', '-')}", str(v))]
    r = subprocess.run(args, capture_output=True, text=True, env=dict(os.environ, CODELM_NO_BAR='1'))
    if r.returncode: sys.exit(f'phase {name} failed:\n{r.stderr[-4000:]}')
    return json.loads(r.stdout.strip().splitlines()[-1])

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--size-mb', type=float, default=1024, help='MB of train JSONL to generate (default 1024)')
    ap.add_argument('--dir', default='/tmp/codelm_scale', help='where generated data, corpora and caches go')
    ap.add_argument('--steps', type=int, default=20, help='training steps to time')
    ap.add_argument('--workers', type=int, default=os.cpu_count() or 1)
    ap.add_argument('--tok-sample-mb', type=float, default=16, help='MB of code the tokenizer trains on (a sample)')
    ap.add_argument('--keep', action='store_true', help='keep the generated data and corpora')
    ap.add_argument('--phase', choices=PHASES, help=argparse.SUPPRESS)
    ap.add_argument('--csn', help=argparse.SUPPRESS); ap.add_argument('--corpus', help=argparse.SUPPRESS); ap.add_argument('--tok', help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.phase:
        res = PHASES[a.phase](a); res['peak_rss_MB'], res['children_peak_rss_MB'] = peak_mb()
        print(json.dumps(res)); return
    root = Path(a.dir); os.environ['CODELM_CACHE'] = str(root/'cache')
    t = time.perf_counter(); info = generate(root/'csn', a.size_mb)
    print(f"generated {info['records']:,} functions, {sum(info['bytes'].values()) / 1e6:,.0f} MB of JSONL in {time.perf_counter() - t:.0f}s", flush=True)
    res = {}
    for tag, csn in (('tenth', tenth(root/'csn', root/'csn_tenth')), ('full', root/'csn')):
        corpus, tok = root/f'corpus_{tag}', root/f'tok_{tag}'
        shutil.rmtree(root/'cache', ignore_errors=True); shutil.rmtree(tok, ignore_errors=True)
        r = res[tag] = dict(build=run_phase('build', csn=csn, corpus=corpus, workers=a.workers))
        common = dict(corpus=corpus, tok=tok, tok_sample_mb=a.tok_sample_mb, workers=a.workers, steps=a.steps)
        r['tokenize'] = run_phase('tokenize', **common)
        r['train'] = run_phase('train', **common)
        if tag == 'tenth': r['in_memory'] = run_phase('in_memory', **common)
        print(f"{tag}: " + json.dumps(r), flush=True)
    f, q = res['full'], res['tenth']
    print(f"full corpus: {f['build']['functions']['train']:,} train functions ({f['build']['input_jsonl_MB']:,.0f} MB JSONL); "
          f"build {f['build']['MBps']:.2f} MB/s, peak {f['build']['peak_rss_MB']:.0f} MB (workers {f['build']['children_peak_rss_MB']:.0f} MB); "
          f"tokenize {f['tokenize']['MBps']:.2f} MB/s, peak {f['tokenize']['peak_rss_MB']:.0f} MB; "
          f"train {f['train']['tokens_per_s']:,.0f} tokens/s per step, peak {f['train']['peak_rss_MB']:.0f} MB. "
          f"In-memory loaders on the tenth: peak {q['in_memory']['peak_rss_MB']:.0f} MB.")
    from codelm.data import bench_json
    J = lambda name, v, unit, b, ratio, note: print(bench_json(dict(bench=name, value=round(v, 2), unit=unit, baseline=round(b, 2), ratio=round(ratio, 3), note=note)))
    for ph in ('build', 'tokenize', 'train'):
        J(f'scale_{ph}_peak_rss', f[ph]['peak_rss_MB'], 'MB', q[ph]['peak_rss_MB'], q[ph]['peak_rss_MB'] / f[ph]['peak_rss_MB'],
          'full corpus vs its tenth: 1.0 = memory does not grow with the corpus, 0.1 = grows in proportion')
    J('scale_build_throughput', f['build']['MBps'], 'MB/s', q['build']['MBps'], f['build']['MBps'] / q['build']['MBps'], 'input JSONL MB/s, full vs tenth, autopep8 off')
    J('scale_tokenize_throughput', f['tokenize']['MBps'], 'MB/s', q['tokenize']['MBps'], f['tokenize']['MBps'] / q['tokenize']['MBps'], 'code MB/s into the token cache, full vs tenth')
    J('scale_train_step_throughput', f['train']['tokens_per_s'], 'tokens/s', q['train']['tokens_per_s'], f['train']['tokens_per_s'] / q['train']['tokens_per_s'],
      'AWD-LSTM cpu-size steps from the memory-mapped cache, full vs tenth')
    J('scale_tokenize_vs_in_memory', q['tokenize']['peak_rss_MB'], 'MB', q['in_memory']['peak_rss_MB'], q['in_memory']['peak_rss_MB'] / q['tokenize']['peak_rss_MB'],
      'peak RSS on the tenth: token cache vs lm_dls holding every id in memory')
    if not a.keep: shutil.rmtree(root, ignore_errors=True)

if __name__ == '__main__': main()
