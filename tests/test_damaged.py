"""Damaged runs, corpora and inputs (issue 39, points 2 and 3), generated rather than listed.

A good run of each family (AWD-LSTM with the char tokenizer, AWD-QRNN with bpe, GPT-2, BERT, RoBERTa: both tokenizer back ends) is
damaged file by file and field by field: each field of each JSON file (at any depth, up to `MAX_DEPTH`) gets each class of bad value
that applies to it (missing, wrong type, negative, zero, NaN, infinity, huge, empty, a list or an object instead of a scalar), each
object an unknown extra key; each file is removed, emptied, truncated, replaced by garbage bytes (or a JSON list, or bytes that are not
UTF-8) or by a link to /dev/zero; tensors of model.safetensors hold NaN or infinity, change dtype or shape, go missing or gain a
neighbour; history.csv gets bad cells and columns. Every command that reads the run then runs on it (complete, card, the explorer's
list, tokenizers stats; eval, and fill or humaneval, on a seeded subset), and the rule is: exit 0, or exit 2 with one line naming the
damaged file; never a traceback, another status, a hang or a signal. The same generator damages runs of the earlier layout (`codelm
convert`, then `complete` on what it converted) and a corpus (its first train and test records, stats.json and the files: eval,
baselines, tokenizers train and stats). Inputs that never end or ask for too much (`--samples /dev/zero`, a gzip bomb, `--vocab-size
1000000000`) run in a process of their own with its memory capped, since before the fix they took the memory or aborted in Rust.

"One line" counts everything a user would see on stderr: the command's own lines, what C++ and Rust libraries write to file
descriptor 2, and transformers' log records. The commands run in this process (conftest's `codelm`) on one working copy of each run,
restored between cases, with one torch thread. `make test` runs a seeded subset that keeps every (file, class) pair (about 800 cases,
about a minute); `CODELM_DAMAGE=all` runs every generated case (about 14,000) and `CODELM_DAMAGE_SEED` draws another subset."""
import contextlib, json, logging, math, os, random, shutil, signal, subprocess, sys, tempfile, time, traceback
from collections import Counter
from pathlib import Path
import pytest
from conftest import CODELM, codelm, copy_runs
import codelm.cli as _cli  # imported now: import-time warnings are not the error line of the first case

RUNS = ('awd_lstm-char', 'awd_qrnn-bpe', 'gpt2', 'bert', 'roberta')
MASKED = ('bert', 'roberta')
ALL = os.environ.get('CODELM_DAMAGE') == 'all'
MISSING = object()                 # the field is removed
ENDLESS = b'<a symbolic link to /dev/zero>'  # the file replaced by a link to /dev/zero: read whole, it never ends
MAX_DEPTH, MAX_KEYS, MAX_LIST = 3, 40, 8  # fields are walked this deep; bigger objects and lists are damaged whole, not item by item
EXTRA = 'evil_extra_key'
MODEL_FILES = ('codelm.json', 'config.json', 'model.safetensors', 'generation_config.json', 'codelm_tokenizer.json', 'tokenizer.json',
               'tokenizer.model', 'tokenizer_config.json')
TOKENIZER_FILES = ('codelm_tokenizer.json', 'tokenizer.json', 'tokenizer.model', 'tokenizer_config.json')

# ---------------------------------------------------------------- the bad values

def bad_values(v) -> dict:
    "Each class of bad value that applies to a field whose good value is `v`: class -> value (`MISSING`: the field removed)."
    out = {'missing': MISSING}
    if isinstance(v, bool): out.update(wrong_type='yes', number=2, list=[v], dict={'x': v})
    elif isinstance(v, (int, float)) or v is None:
        out.update(wrong_type='x', negative=-1 if isinstance(v, int) and not isinstance(v, bool) else -1.5, zero=0, nan=math.nan,
                   infinity=math.inf, huge=10**30 if isinstance(v, int) else 1e300, list=[v], dict={'x': v})
        if v is None: out.update(empty='')
    elif isinstance(v, str): out.update(wrong_type=7, empty='', huge='x' * 100_000, list=[v], dict={'x': v}, nan=math.nan)
    elif isinstance(v, dict): out.update(wrong_type='x', empty={}, list=[v], scalar=7)
    elif isinstance(v, list): out.update(wrong_type='x', empty=[], dict={'x': v}, scalar=7, nan=math.nan)
    return out

def fields(o, at=(), depth=0):
    "The paths (tuples of keys and indices) of the fields of the JSON value `o` worth damaging one by one."
    if depth >= MAX_DEPTH: return
    if isinstance(o, dict) and len(o) <= MAX_KEYS:
        for k, v in o.items():
            yield at + (k,)
            yield from fields(v, at + (k,), depth + 1)
    elif isinstance(o, list) and 0 < len(o) <= MAX_LIST and isinstance(o[0], (dict, list, int, float, str)):
        yield at + (0,)
        yield from fields(o[0], at + (0,), depth + 1)

def objects(o, at=(), depth=0):
    "The paths of the objects in `o` (the root included) that get an unknown extra key."
    if isinstance(o, dict) and len(o) <= MAX_KEYS and depth <= MAX_DEPTH:
        yield at
        for k, v in o.items(): yield from objects(v, at + (k,), depth + 1)

def _get(o, path):
    for k in path: o = o[k]
    return o

def _set(o, path, v):
    "`o` (a copy) with the field at `path` set to `v`, or removed."
    o = json.loads(json.dumps(o)); parent = _get(o, path[:-1])
    if v is MISSING:
        if isinstance(parent, list): parent.pop(path[-1])
        else: del parent[path[-1]]
    else: parent[path[-1]] = v
    return o

def _dump(o) -> bytes: return json.dumps(o, indent=1, allow_nan=True).encode()

def garbage(n:int=512, seed:int=0) -> bytes: return random.Random(seed).randbytes(n)

def file_damages(name:str, data:bytes) -> dict:
    "The damages of a whole file: class -> new bytes (None: removed)."
    out = dict(missing=None, empty=b'', truncated=data[:len(data) // 2], garbage=garbage(max(64, min(len(data), 4096))))
    if name.endswith('.json'): out.update(not_object=b'[1, 2]', binary=b'\xff\xfe\0' + data[:64])
    return out

def tensor_damages(path:Path) -> list:
    "(what, class, new bytes) for tensors of a safetensors file: NaN, infinity, an integer dtype, another shape, removed; and one extra tensor."
    import torch
    from safetensors.torch import load_file, save_file
    from safetensors import safe_open
    with safe_open(str(path), 'pt') as f: meta = f.metadata()
    sd = load_file(str(path)); names = sorted(sd)
    pick = sorted({names[0], names[-1], *random.Random(len(names)).sample(names, min(2, len(names)))})
    out = []
    def save(d): 
        import io, tempfile
        with tempfile.NamedTemporaryFile(suffix='.safetensors') as t:
            save_file({k: v.contiguous() for k, v in d.items()}, t.name, metadata=meta); return Path(t.name).read_bytes()
    for n in pick:
        t = sd[n]
        for cls, new in (('nan', t.clone().flatten().index_fill(0, torch.tensor([0]), float('nan')).view(t.shape)),
                         ('infinity', t.clone().flatten().index_fill(0, torch.tensor([t.numel() - 1]), float('inf')).view(t.shape)),
                         ('int_dtype', t.to(torch.int32)), ('half_dtype', t.to(torch.float16)),
                         ('shape', t.flatten()[:-1] if t.dim() == 1 else t[:-1]), ('missing', None)):
            d = dict(sd)
            if new is None: del d[n]
            else: d[n] = new
            out.append((n, cls, save(d)))
    out.append((EXTRA, 'extra_tensor', save({**sd, EXTRA: torch.zeros(3)})))
    return out

def history_damages(data:bytes) -> dict:
    "Bad cells and columns of a history.csv: class -> new bytes."
    lines = data.decode().splitlines(); head = lines[0].split(','); col = head.index('bpb')
    def cell(v):
        row = lines[1].split(','); row[col] = v
        return '\n'.join([lines[0], ','.join(row), *lines[2:]]).encode() + b'\n'
    out = {f'bpb_{k}': cell(v) for k, v in dict(wrong_type='x', nan='nan', infinity='inf', negative='-1', huge='1e400').items()}
    out['missing_column'] = '\n'.join(','.join(c for i, c in enumerate(l.split(',')) if i != col) for l in lines).encode()
    out['extra_column'] = '\n'.join(l + (',evil' if i else ',' + EXTRA) for i, l in enumerate(lines)).encode()
    out['ragged_row'] = '\n'.join(lines + ['1,2,3,4,5,6,7,8,9,10,11,12,13']).encode()
    return out

def cases_of(run:Path, family:str, skip=('README.md',)) -> list[dict]:
    "Every generated case for the run directory `run` (its files at any depth): dict(run, file, what, cls, data), data the file's new bytes (None: removed)."
    out = []
    for f in sorted(p for p in run.rglob('*') if p.is_file() and not p.name.startswith('.') and p.name not in skip):
        data, name = f.read_bytes(), str(f.relative_to(run))
        add = lambda what, cls, new: out.append(dict(run=family, file=name, what=what, cls=cls, data=new))
        for cls, new in file_damages(f.name, data).items(): add(None, cls, new)
        add(None, 'endless', ENDLESS)
        if f.suffix == '.json':
            o = json.loads(data)
            for p in fields(o):
                for cls, v in bad_values(_get(o, p)).items(): add('.'.join(map(str, p)), cls, _dump(_set(o, p, v)))
            for p in objects(o): add('.'.join(map(str, p + (EXTRA,))), 'unknown_key', _dump(_set(o, p + (EXTRA,), 1)))
        elif f.suffix == '.safetensors':
            for what, cls, new in tensor_damages(f): add(what, cls, new)
        elif f.suffix == '.csv':
            for cls, new in history_damages(data).items(): add(None, cls, new)
    return out

PER_FAMILY = ('config.json', 'model.safetensors', 'codelm_tokenizer.json', 'tokenizer.json', 'tokenizer.model')  # differ by family

def subset(cases:list, per:int=1, seed:int=int(os.environ.get('CODELM_DAMAGE_SEED', 0)), by_family=PER_FAMILY, others:int=3) -> list:
    "`per` cases of each (file, class, whole file or field), drawn with `seed`: per family for the files in `by_family`, `others` times as many of the rest across families."
    rng, groups = random.Random(seed), {}
    for c in cases: groups.setdefault((c['run'] if Path(c['file']).name in by_family else '*', c['file'], c['cls'], c['what'] is None), []).append(c)
    return [c for k in sorted(groups, key=str) for c in rng.sample(groups[k], min(per if k[0] != '*' else others * per, len(groups[k])))]

# ---------------------------------------------------------------- running the commands

def snapshot(d:Path) -> dict: return {str(p.relative_to(d)): p.read_bytes() for p in d.rglob('*') if p.is_file() and not p.is_symlink()}

def restore(work:Path, snap:dict):
    "Put the files under `work` back as `snap` (relative path -> bytes) holds them; anything else there goes."
    for p in sorted(work.rglob('*'), key=lambda p: -len(p.parts)):
        rel = str(p.relative_to(work))
        if p.is_symlink() or (p.is_file() and rel not in snap): p.unlink()
        elif p.is_dir() and not any(k.startswith(rel + '/') for k in snap): shutil.rmtree(p)
    for n, b in snap.items():
        p = work/n
        if not p.is_file() or p.stat().st_size != len(b) or p.read_bytes() != b:
            if p.is_dir(): shutil.rmtree(p)
            p.parent.mkdir(parents=True, exist_ok=True); p.write_bytes(b)

def damage(run:Path, c:dict):
    "Apply case `c` to the working copy `run`."
    f = run/c['file']
    if c['data'] is None or c['data'] is ENDLESS: f.unlink(missing_ok=True)
    if c['data'] is ENDLESS: f.symlink_to('/dev/zero')
    elif c['data'] is not None: f.parent.mkdir(parents=True, exist_ok=True); f.write_bytes(c['data'])

class _Hang(Exception): pass

def _alarm(*_): raise _Hang()

def _timed(f, seconds:int=60):
    "`f()`, or `_Hang` after `seconds` (a damaged size that builds a model for ever is a failure too)."
    old = signal.signal(signal.SIGALRM, _alarm); signal.alarm(seconds)
    try: return f()
    finally: signal.alarm(0); signal.signal(signal.SIGALRM, old)

class _Records(logging.Handler):
    "The records a library logs (transformers writes them to the terminal's stderr through a handler of its own)."
    def __init__(self): super().__init__(logging.WARNING); self.lines = []
    def emit(self, r): self.lines.append(f'[{r.name}] {r.getMessage()}')

@contextlib.contextmanager
def all_stderr():
    "Everything written to stderr while the block runs, as a list to read after it: `sys.stderr` is the command's own; here file descriptor 2 (C++ and Rust libraries write there) and transformers' log records."
    out, h, lg = [], _Records(), logging.getLogger('transformers')
    with tempfile.TemporaryFile() as t:
        sys.stderr.flush(); saved = os.dup(2); os.dup2(t.fileno(), 2); lg.addHandler(h)
        try: yield out
        finally:
            lg.removeHandler(h); sys.stderr.flush(); os.dup2(saved, 2); os.close(saved)
            t.seek(0); out += t.read().decode('utf-8', 'replace').splitlines() + h.lines

def outcome(args:list, damaged:str|None=None) -> tuple[str, str]:
    "('ok' | 'refused' | a failure: 'traceback', 'hang', 'status N', 'lines', 'unnamed', and the detail) of `codelm ARGS`."
    try:
        with all_stderr() as extra: r = _timed(lambda: codelm(*args))
    except _Hang: return 'hang', ' '.join(map(str, args))
    except BaseException as e:
        if isinstance(e, KeyboardInterrupt): raise
        return 'traceback', traceback.format_exc(limit=-3)
    if 'Traceback' in r.stderr + '\n'.join(extra): return 'traceback', (r.stderr + '\n'.join(extra))[-1500:]
    if r.returncode == 0: return 'ok', ''
    if r.returncode != 2: return f'status {r.returncode}', r.stderr[-1500:]
    lines = r.stderr.strip().splitlines() + [l for l in extra if l.strip()]
    if len(lines) != 1 or not lines[0].startswith(f'codelm {args[0]}'): return 'lines', r.stderr[-1500:]
    if damaged and damaged not in lines[0]: return 'unnamed', lines[0]
    return 'refused', lines[0]

def info_outcome(run:Path) -> tuple[str, str]:
    "The explorer's list entry of `run`: no exception, and a reason of one line if it cannot load."
    from codelm.explore import run_info
    try: i = _timed(lambda: run_info(run))
    except _Hang: return 'hang', str(run)
    except Exception: return 'traceback', traceback.format_exc(limit=-3)
    if i.get('error') and len(str(i['error']).splitlines()) != 1: return 'lines', i['error']
    return ('refused' if i.get('error') else 'ok'), i.get('error') or ''

def commands(family:str, run:Path, file:str, corpus:str, heavy:bool) -> list:
    "The commands that read `file` of a run of `family`: (name, argv or None for the explorer's list)."
    out = [('card', ['card', run]), ('explore list', None)]
    if file in MODEL_FILES: out.append(('complete', ['complete', run, '--prompt', 'def f(', '-n', '1', '--max-new-chars', '4', '--seed', '1']))
    if file in TOKENIZER_FILES: out.append(('tokenizers stats', ['tokenizers', 'stats', '--corpus', corpus, '--tokenizers', run, '--split', 'valid']))
    if heavy:
        out.append(('eval', ['eval', run, '--corpus', corpus, '--limit', '2', '--lines', '1', '--headers', '1', '--masked-sample', '2']))
        if family in MASKED: out.append(('fill', ['fill', run, '--text', 'x = <mask>\\n', '-k', '1']))
        else: out.append(('humaneval', ['humaneval', run, '--limit', '1', '-n', '1', '--max-new-chars', '8', '--workers', '1', '--timeout', '5']))
    return out

@pytest.fixture
def one_thread():
    "Tiny models, one torch thread (two threads of tiny matrices on a shared machine are many times slower); the setting is put back after."
    import torch
    n = torch.get_num_threads(); torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)

def sweep(work:Path, runs, cases_for, cmds, heavy_n:int, seed:int=1) -> tuple[Counter, list, int]:
    "Run each case `cases_for(name)` gives on the working copy `work/name` of each of `runs`, and each command `cmds(name, run, case, heavy)` gives: (outcomes, failures, cases)."
    counts, bad, n = Counter(), [], 0
    for name in runs:
        run = work/name; snap = snapshot(run); cases = cases_for(name)
        heavy = set(random.Random(seed).sample(range(len(cases)), min(heavy_n, len(cases))))
        for i, c in enumerate(cases):
            restore(run, snap); damage(run, c); n += 1
            for cmd, argv in cmds(name, run, c, i in heavy):
                got, detail = info_outcome(run) if argv is None else outcome(argv, c['file'])
                counts[got] += 1
                if got not in ('ok', 'refused'): bad.append(f"{name}/{c['file']} {c['what'] or ''} {c['cls']} | {cmd}: {got}: {detail.strip()[-600:]}")
        restore(run, snap)
    return counts, bad, n

def _report(title, counts, bad, n, t0):
    print(f"\n{title}: {n} cases, {sum(counts.values())} command runs in {time.time() - t0:.0f} s: {dict(counts)}")
    for b in bad[:40]: print('  ', b)

def test_damaged_runs(smoke_registry, tmp_path, one_thread):
    "Every generated damage of each family's run: each command that reads it exits 0, or 2 with one line naming the file."
    from codelm.data import sample_corpus
    t0, corpus = time.time(), str(sample_corpus())
    every = [c for fam in RUNS for c in cases_of(smoke_registry/'runs'/'smoke'/fam, fam)]
    chosen = every if ALL else subset(every)
    print(f'{len(every)} cases generated, {len(chosen)} run')
    counts, bad, n = sweep(copy_runs(smoke_registry, tmp_path, RUNS), RUNS, lambda fam: [c for c in chosen if c['run'] == fam],
                           lambda fam, run, c, heavy: commands(fam, run, c['file'], corpus, heavy), heavy_n=40 if ALL else 3)
    _report('damaged runs', counts, bad, n, t0)
    assert not bad, f'{len(bad)} of {sum(counts.values())} command runs failed:\n' + '\n'.join(bad[:30])

# ---------------------------------------------------------------- runs of the earlier layout: codelm convert

LEGACY = ('awd_lstm-char', 'gpt2')

def make_legacy(run:Path, dest:Path) -> Path:
    "`run` rewritten in the layout of runs trained before codelm.json: the record in config.json with the model's config under `model`, tokenizer/, `hf.`-prefixed weights."
    from codelm.rundir import save_weights
    from codelm.transformer import TransformerLM, _hf_classes
    shutil.copytree(run, dest)
    meta, mc = json.loads((dest/'codelm.json').read_text()), json.loads((dest/'config.json').read_text())
    (dest/'tokenizer').mkdir()
    for f in list(dest.iterdir()):
        if f.name in TOKENIZER_FILES: f.rename(dest/'tokenizer'/f.name)
        elif f.name in ('metrics.json', 'samples.json', 'history.csv', 'README.md', 'generation_config.json'): f.unlink()
    if meta['arch'] in ('gpt2', 'bert', 'roberta'):
        hf = _hf_classes(meta['arch'])[1].from_pretrained(str(run), local_files_only=True)
        save_weights(TransformerLM(hf, 3), dest/'model.safetensors')
        model = dict(hf_config=json.loads(hf.config.to_json_string(use_diff=True)), pad_id=3)
    else: model = dict(config=mc['config'], drop_mult=mc['drop_mult'])
    meta.pop('layout'); (dest/'codelm.json').unlink()
    (dest/'config.json').write_text(json.dumps(dict(meta, model=model), indent=1))
    return dest

def test_damaged_legacy_runs(smoke_registry, tmp_path, one_thread):
    "`codelm convert` on every generated damage of a run of the earlier layout (its record, model config, tokenizer and weights): exit 0 and a run that loads, or exit 2 naming the file."
    t0, work = time.time(), tmp_path/'legacy'
    for name in LEGACY: make_legacy(smoke_registry/'runs'/'smoke'/name, work/name)
    every = [c for name in LEGACY for c in cases_of(work/name, name)]
    chosen = every if ALL else subset(every, by_family=(), others=1)
    print(f'{len(every)} cases generated, {len(chosen)} run')
    def cmds(name, run, c, heavy):
        yield 'convert', ['convert', run]
        if (run/'codelm.json').exists(): yield 'complete', ['complete', run, '--prompt', 'def f(', '-n', '1', '--max-new-chars', '4', '--seed', '1']
    counts, bad, n = sweep(work, LEGACY, lambda name: [c for c in chosen if c['run'] == name], cmds, heavy_n=0)
    _report('damaged legacy runs', counts, bad, n, t0)
    assert not bad, f'{len(bad)} of {sum(counts.values())} command runs failed:\n' + '\n'.join(bad[:30])

# ---------------------------------------------------------------- corpora

SURROGATE = 'x = "\ud800"\n'

def corpus_cases(corpus:Path) -> list[dict]:
    "The damages of a corpus: the first record of the train and test splits (its `code` with each bad value, or a lone surrogate; the line not an object, or not UTF-8), each field of stats.json, and the files themselves."
    import gzip
    out = []
    for f in ('train.jsonl.gz', 'test.jsonl.gz', 'stats.json'):
        data = (corpus/f).read_bytes()
        add = lambda what, cls, new: out.append(dict(run='corpus', file=f, what=what, cls=cls, data=new))
        for cls, new in file_damages(f, data).items(): add(None, cls, new)
        add(None, 'endless', ENDLESS)
        if f == 'stats.json':
            o = json.loads(data)
            for p in fields(o):
                for cls, v in bad_values(_get(o, p)).items(): add('.'.join(map(str, p)), cls, _dump(_set(o, p, v)))
            continue
        first, rest = gzip.decompress(data).split(b'\n', 1)
        rec = json.loads(first)
        line = lambda b: gzip.compress(b + b'\n' + rest, compresslevel=1)
        for cls, v in {**bad_values(rec['code']), 'surrogate': SURROGATE}.items():
            add('code', cls, line(json.dumps(_set(rec, ('code',), v)).encode()))
        add(None, 'line_not_object', line(b'[1, 2]')); add(None, 'line_not_utf8', line(b'{"code": "\xff\xfe"}'))
    return out

def test_damaged_corpus(smoke_registry, tmp_path, one_thread):
    "Every generated damage of a corpus: eval, baselines, tokenizers train and tokenizers stats exit 0, or 2 with one line naming the file."
    from codelm.data import sample_corpus
    t0 = time.time()
    work = tmp_path/'c'; shutil.copytree(sample_corpus(), work/'corpus', ignore=shutil.ignore_patterns('baselines', '.*'))
    run = copy_runs(smoke_registry, tmp_path/'r', ('awd_lstm-char',))/'awd_lstm-char'
    for args in (['baselines', '--corpus', work/'corpus', '--limit', '2', '--xz-functions', '1'], ['eval', run, '--corpus', work/'corpus', '--limit', '2', '--lines', '1', '--headers', '1']):
        codelm(*args, check=True)  # the baselines cached in the corpus: a damage that is let through costs no compression
    every = corpus_cases(work/'corpus')
    chosen = every if ALL else subset(every, by_family=(), others=1)
    print(f'{len(every)} cases generated, {len(chosen)} run')
    def cmds(name, corpus, c, heavy):
        yield 'tokenizers stats', ['tokenizers', 'stats', '--corpus', corpus, '--tokenizers', run, '--split', 'test']
        yield 'tokenizers train', ['tokenizers', 'train', '--corpus', corpus, '--kinds', 'char', '--out', tmp_path/'tok']
        yield 'baselines', ['baselines', '--corpus', corpus, '--limit', '2', '--xz-functions', '1']
        if heavy: yield 'eval', ['eval', run, '--corpus', corpus, '--limit', '2', '--lines', '1', '--headers', '1']
    counts, bad, n = sweep(work, ['corpus'], lambda name: chosen, cmds, heavy_n=len(chosen) if ALL else 6)
    _report('damaged corpus', counts, bad, n, t0)
    assert not bad, f'{len(bad)} of {sum(counts.values())} command runs failed:\n' + '\n'.join(bad[:30])

# ---------------------------------------------------------------- inputs that never end, or ask for too much

ISOLATED = """
import json, resource, sys
resource.setrlimit(resource.RLIMIT_AS, ({mem}, {mem}))
sys.path.insert(0, {tests!r})
from conftest import codelm
for args in json.loads(sys.argv[1]):
    try: r = codelm(*args); out = dict(rc=r.returncode, err=r.stderr)
    except BaseException as e: out = dict(rc='exception', err=f'{{type(e).__name__}}: {{e}}')
    print(json.dumps(out), flush=True)
"""

def isolated(cases:list, mem_gb:int=6) -> list[dict]:
    "Each of `cases` (argv lists) run in one new process, in turn, with its address space capped at `mem_gb`: what each exited with (an abort or a kill ends the list early)."
    r = subprocess.run([sys.executable, '-c', ISOLATED.format(mem=mem_gb << 30, tests=str(Path(__file__).parent)), json.dumps([list(map(str, a)) for a in cases])],
                       capture_output=True, text=True, timeout=600, env={**os.environ, 'CODELM_NO_BAR': '1'})
    got = [json.loads(l) for l in r.stdout.splitlines() if l.startswith('{')]
    return got + [dict(rc=r.returncode, err=r.stderr[-1500:])] * (len(cases) - len(got))

def test_inputs_never_read_whole(tmp_path):
    "Was: `--samples /dev/zero` a MemoryError, `--vocab-size 1000000000` an abort in Rust (exit -6); now each one line, exit 2, naming the file or the flag."
    import gzip
    from codelm.data import sample_corpus
    bomb = tmp_path/'bomb.jsonl.gz'
    with gzip.open(bomb, 'wb', compresslevel=1) as f:
        for _ in range(300): f.write(b'0' * (1 << 20))  # 300 MB, one line: about 1 MB gzipped
    cases = [(['humaneval', '--samples', '/dev/zero'], '/dev/zero'), (['humaneval', '--samples', bomb], f'{bomb}: more than 268,435,456 bytes decompressed'),
             (['humaneval', '--samples', bomb, '--problems', '/dev/zero'], '/dev/zero'),
             (['tokenizers', 'train', '--corpus', sample_corpus(), '--kinds', 'bytebpe', '--vocab-size', '1000000000', '--out', tmp_path/'tok'], '--vocab-size 1000000000'),
             (['tokenizers', 'train', '--corpus', sample_corpus(), '--kinds', 'bytebpe', '--vocab-size', 'bytebpe=2000000000', '--out', tmp_path/'tok'], '--vocab-size 2000000000')]
    got = isolated([a for a, _ in cases])
    for (args, needle), g in zip(cases, got):
        lines = str(g['err']).strip().splitlines()
        assert g['rc'] == 2 and len(lines) == 1 and needle in lines[0], (args, g)
