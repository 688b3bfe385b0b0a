"""Bad values for every numeric and file flag of the commands that read a registry or corpus (issue 24.8): complete, fill, explore,
eval, baselines, humaneval, tokenizers, train and run. Each is refused with exit status 2 and one line on stderr that names the flag or
the file, no traceback, and the registry and corpus it was pointed at are left byte for byte as they were (a bad `train` does not even
create its --out, a bad `run` its registry or report).

(`corpus` has its own tests.) The commands run in this process (conftest's `codelm`), so the whole file
takes seconds: every case fails before a model is loaded, or just after."""
import hashlib, socket
from pathlib import Path
import pytest
from conftest import codelm, copy_runs
import codelm.cli as _cli  # imported now: import-time warnings are not the error line of the first case

BAD_INT = ['-1', '0', '100000000000', 'nan', 'inf', '2.5', 'x', 'é\\']  # negative, zero, huge, nan/inf, wrong type, non-ASCII with a backslash
BAD_POS_INT = ['-1', '0', 'nan', '2.5', 'x', 'é\\']                    # for counts where a huge value is a legitimate "all"
BAD_FILES = ['{nope}', '{dir}', '{bin}', '{latin1}']                   # missing, a directory, binary, not UTF-8

def flag_cases(cmd, base, flag, values, xfail=None, norun=()):
    "(argv, what the line may name to name the flag) for each bad value of `flag`; `xfail` maps a value to why it is still accepted, `norun` those not to run."
    out = []
    for v in values:
        marks = [pytest.mark.xfail(reason=xfail[v], run=v not in norun)] if xfail and v in xfail else []
        out.append(pytest.param(base + [flag, v], (flag, v), id=f'{cmd} {flag} {v}', marks=marks))
    return out

COMPLETE = ['complete', '{gpt2}', '--prompt', 'x']
FILL = ['fill', '{roberta}', '--text', 'x = <mask>']
EXPLORE = ['explore', '--runs', '{reg}']
EVAL = ['eval', '{gpt2}', '--limit', '2']
BASELINES = ['baselines', '--corpus', '{corpus}', '--limit', '2']
HUMANEVAL = ['humaneval', '{gpt2}', '--limit', '1', '-n', '1', '--max-new-chars', '8']
TOK_TRAIN = ['tokenizers', 'train', '--corpus', '{corpus}', '--kinds', 'char', '--out', '{tmp}/tok']
TOK_STATS = ['tokenizers', 'stats', '--corpus', '{corpus}', '--tokenizers', '{toks}']

CASES = [
    # complete
    *flag_cases('complete', COMPLETE, '-n', BAD_INT),
    *flag_cases('complete', COMPLETE, '--max-new-chars', BAD_INT),
    *flag_cases('complete', COMPLETE, '--temperature', ['-1', '-0.0001', '11', '1e400', 'nan', 'inf', '-inf', 'x', 'é\\']),
    *flag_cases('complete', COMPLETE, '--top-k', ['-1', 'nan', 'inf', '2.5', 'x', 'é\\']),  # 0, or more than the vocabulary: every token
    *flag_cases('complete', COMPLETE, '--top-p', ['-0.5', '0', '1.5', '100000000000', 'nan', 'inf', 'x', 'é\\']),
    *flag_cases('complete', COMPLETE, '--seed', ['-1', str(2**64), 'nan', '2.5', 'x', 'é\\']),
    *flag_cases('complete', COMPLETE, '--stop', ['']),
    *flag_cases('complete', ['complete', '{gpt2}'], '--prompt-file', BAD_FILES + ['{big}']),
    pytest.param(['complete', '{nope}', '--prompt', 'x'], ('{nope}',), id='complete RUN missing'),
    pytest.param(['complete', '{bin}', '--prompt', 'x'], ('{bin}',), id='complete RUN a file'),
    pytest.param(['complete', '{dir}', '--prompt', 'x'], ('{dir}',), id='complete RUN not a run'),
    pytest.param(['complete', '{badcfg}', '--prompt', 'x'], ('{badcfg}',), id='complete RUN binary codelm.json'),
    # fill
    *flag_cases('fill', FILL, '-k', BAD_INT),
    *flag_cases('fill', ['fill', '{roberta}'], '--text-file', BAD_FILES + ['{big}']),
    pytest.param(['fill', '{roberta}', '--text', 'x = 1\\n'], ('--text',), id='fill --text without <mask>'),
    pytest.param(['fill', '{roberta}', '--text', '<mask> = <mask>'], ('--text',), id='fill --text two <mask>'),
    pytest.param(['fill', '{nope}', '--text', 'x = <mask>'], ('{nope}',), id='fill RUN missing'),
    pytest.param(['fill', '{bin}', '--text', 'x = <mask>'], ('{bin}',), id='fill RUN a file'),
    # explore (a bad flag must fail before a server starts)
    *flag_cases('explore', EXPLORE, '--port', BAD_INT + ['65536', '{busy}']),
    *flag_cases('explore', ['explore'], '--runs', ['{nope}', '{bin}']),
    *flag_cases('explore', EXPLORE, '--write', ['{dir}', '{bin}/app.ipynb']),
    # eval
    *flag_cases('eval', EVAL, '--limit', ['-1', '0', 'nan', '2.5', 'x', 'é\\']),
    *flag_cases('eval', EVAL, '--masked-sample', ['-1', 'nan', '2.5', 'x', 'é\\']),
    *flag_cases('eval', EVAL, '--lines', BAD_POS_INT),    # at least one line: 0 would report EM/ES of nothing
    *flag_cases('eval', EVAL, '--headers', BAD_POS_INT),
    *flag_cases('eval', EVAL, '--seed', ['-1', 'nan', 'x', 'é\\']),
    *flag_cases('eval', ['eval', '{gpt2}'], '--corpus', ['{nope}', '{dir}', '{bin}']),
    pytest.param(['eval', '{nope}'], ('{nope}',), id='eval RUN missing'),
    pytest.param(['eval', '{bin}'], ('{bin}',), id='eval RUN a file'),
    # baselines
    *flag_cases('baselines', BASELINES, '--order', BAD_INT + ['13']),  # 1 to 12
    *flag_cases('baselines', ['baselines', '--corpus', '{corpus}'], '--limit', BAD_POS_INT),
    *flag_cases('baselines', BASELINES, '--budget-mb', ['-1', '0', 'nan', 'inf', '-inf', 'x', 'é\\']),
    *flag_cases('baselines', BASELINES, '--seed', ['nan', '2.5', 'x', 'é\\']),
    *flag_cases('baselines', ['baselines'], '--corpus', ['{nope}', '{dir}', '{bin}']),
    # humaneval
    *flag_cases('humaneval', HUMANEVAL, '-n', BAD_INT),
    *flag_cases('humaneval', HUMANEVAL, '-k', ['-1', '0', 'nan', 'x', 'é\\']),
    *flag_cases('humaneval', HUMANEVAL, '--temperature', ['-1', '11', 'nan', 'inf', 'x', 'é\\']),
    *flag_cases('humaneval', HUMANEVAL, '--top-p', ['-0.5', '0', '1.5', 'nan', 'inf', 'x']),
    *flag_cases('humaneval', HUMANEVAL, '--max-new-chars', ['-1', '0', '100000000000', 'nan', 'x']),
    *flag_cases('humaneval', HUMANEVAL, '--seed', ['-1', 'nan', 'x']),
    *flag_cases('humaneval', HUMANEVAL, '--limit', ['-1', '0', 'nan', 'x']),
    *flag_cases('humaneval', HUMANEVAL, '--workers', ['-1', '0', '100000000000', 'nan', 'x']),
    *flag_cases('humaneval', HUMANEVAL, '--timeout', ['-1', '0', 'nan', 'inf', '100000000000', 'x']),  # all before generating
    *flag_cases('humaneval', HUMANEVAL, '--memory-mb', ['-1', '0', '100000000000', 'nan', 'x']),
    *flag_cases('humaneval', ['humaneval'], '--samples', ['{nope}', '{dir}', '{bin}', '{latin1}']),
    *flag_cases('humaneval', HUMANEVAL, '--problems', ['{nope}', '{dir}', '{bin}']),
    # tokenizers
    *flag_cases('tokenizers train', TOK_TRAIN, '--vocab-size', ['-1', '0', 'nan', 'x', 'é\\']),
    *flag_cases('tokenizers train', ['tokenizers', 'train', '--kinds', 'char', '--out', '{tmp}/tok'], '--corpus', ['{nope}', '{dir}', '{bin}']),
    *flag_cases('tokenizers train', ['tokenizers', 'train', '--corpus', '{corpus}', '--kinds', 'char'], '--out', ['{bin}']),
    *flag_cases('tokenizers stats', ['tokenizers', 'stats', '--corpus', '{corpus}'], '--tokenizers', ['{nope}', '{dir}', '{bin}']),
    *flag_cases('tokenizers stats', ['tokenizers', 'stats', '--tokenizers', '{toks}'], '--corpus', ['{nope}', '{dir}', '{bin}']),
]

def tree_hash(d:Path) -> str:
    "One hash of every file's path, size and bytes under `d`."
    h = hashlib.sha256()
    for p in sorted(d.rglob('*')):
        h.update(str(p.relative_to(d)).encode())
        if p.is_file(): h.update(p.read_bytes())
    return h.hexdigest()

@pytest.fixture(scope='module')
def env(smoke_registry, tmp_path_factory):
    "The placeholders of the cases: a registry of three smoke runs, the sample corpus, and bad files of each kind."
    from codelm.data import sample_corpus
    t = tmp_path_factory.mktemp('bad')
    reg = copy_runs(smoke_registry, t/'runs', ('gpt2', 'roberta', 'awd_lstm-char'))
    (t/'bin.dat').write_bytes(b'\x89PNG\r\n\x1a\n\0\0\xff\xfe' * 8)
    (t/'latin1.txt').write_bytes('x = "café" <mask> \\n'.encode('latin-1'))
    (t/'big.py').write_bytes(b'x = 1\n' * 200_000)  # 1.2 MB: more than a prompt may be
    (t/'dir').mkdir(); (t/'tmp').mkdir()
    bad = t/'badcfg'; bad.mkdir(); (bad/'model.safetensors').write_bytes(b'')
    (bad/'codelm.json').write_bytes(b'\xff\xfe\0{' * 10)
    busy = socket.socket(); busy.bind(('127.0.0.1', 0)); busy.listen()
    v = dict(reg=reg, gpt2=reg/'gpt2', roberta=reg/'roberta', corpus=Path(sample_corpus()), toks=smoke_registry/'runs'/'smoke'/'tokenizers',
             nope=t/'nope', dir=t/'dir', bin=t/'bin.dat', latin1=t/'latin1.txt', big=t/'big.py', badcfg=bad, tmp=t/'tmp',
             busy=busy.getsockname()[1])
    yield {k: str(x) for k, x in v.items()}
    busy.close()

@pytest.fixture(scope='module')
def hashes(env):
    "The hashes of the registry and the corpus before any case ran."
    return {k: tree_hash(Path(env[k])) for k in ('reg', 'corpus', 'toks')}

@pytest.mark.parametrize('argv, names', CASES)
def test_bad_value_is_one_line(env, hashes, argv, names):
    "Status 2, one line naming the flag (as a flag, or as the parameter it sets) or the file, no traceback, nothing changed."
    args = [a.format(**env) for a in argv]
    r = codelm(*args)
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 2, f'exit status {r.returncode}, stderr:\n{r.stderr[-2000:]}'
    assert 'Traceback' not in r.stderr and len(lines) == 1, r.stderr[-2000:]
    needles = []
    for n in (x.format(**env) for x in names):
        needles += [n] if n.startswith('/') else [n, n.lstrip('-').replace('-', '_') + '='] if n.startswith('-') else []
    assert lines[0].startswith(f'codelm {args[0]}') and any(n in lines[0] for n in needles), (needles, lines[0])
    assert {k: tree_hash(Path(env[k])) for k in hashes} == hashes, 'the registry, corpus or tokenizers changed'

@pytest.mark.parametrize('cmd', [['complete', '{gpt2}', '--prompt', 'café = 1 \\\\ C:\\Users\\n', '-n', '1', '--max-new-chars', '4', '--json'],
                                 ['fill', '{roberta}', '--text', 'café = <mask> # C:\\Users\\n', '-k', '1', '--json']])
def test_backslash_with_non_ascii_text_is_fine(env, hashes, cmd):
    "Not bad input: text with backslashes and accents reaches the model as typed (only \\n, \\t, \\\\ decoded), and the run is untouched."
    import json
    r = codelm(*[a.format(**env) for a in cmd])
    assert r.returncode == 0 and not r.stderr.strip(), r.stderr
    out = json.loads(r.stdout)
    assert out.get('prompt', out.get('text')) in ('café = 1 \\ C:\\Users\n', 'café = <mask> # C:\\Users\n')
    assert {k: tree_hash(Path(env[k])) for k in hashes} == hashes


# train and run: refused before a tokenizer is trained or a model built, so these need no smoke registry
TRAIN = ['train', '--arch', 'awd_lstm', '--tokenizer', 'char', '--preset', 'smoke', '--corpus', '{corpus}', '--out', '{tmp}/out']
RUN = ['run', '--preset', 'smoke', '--corpus', '{corpus}', '--runs', '{tmp}/runs', '--report', '{tmp}/reports']
DRY = RUN + ['--dry-run']

def _no_gpu():
    import torch
    return not torch.cuda.is_available()

TRAIN_RUN_CASES = [
    *flag_cases('train', TRAIN, '--lr', ['-1', '0', 'nan', 'inf', 'x']),
    *flag_cases('train', TRAIN, '--epochs', ['-1', 'nan', 'x']),
    *flag_cases('train', TRAIN, '--bs', ['0', '-1', 'nan']),
    *flag_cases('train', TRAIN, '--budget-mb', ['0', '-1', 'nan', 'inf']),
    *flag_cases('train', TRAIN, '--drop-mult', ['-1', 'nan', 'inf']),
    *flag_cases('train', TRAIN, '--seq-len', ['0', '-1', 'nan']),
    *flag_cases('train', TRAIN, '--micro-bs', ['0', '-1']),
    *flag_cases('train', TRAIN, '--precision', ['fp8', *(['fp16'] if _no_gpu() else [])]),  # fp16 needs CUDA
    *flag_cases('train', TRAIN, '--seed', ['-1', str(2**64), 'nan']),
    *flag_cases('train', ['train', '--arch', 'awd_lstm', '--tokenizer', 'char', '--preset', 'smoke', '--out', '{tmp}/out'], '--corpus', ['{nope}', '{bin}', '{dir}']),
    *flag_cases('run', DRY, '--gpu-tflops', ['0', '-5', 'nan', 'inf']),
    *flag_cases('run', DRY, '--mfu', ['0', '2', 'nan']),
    *flag_cases('run', DRY, '--train-mb', ['0', '-1', 'nan']),
    *flag_cases('run', RUN, '--gpu-tflops', ['0']),  # refused without --dry-run too
    *flag_cases('run', RUN, '--budget-mb', ['0', '-1', 'nan', 'inf']),
    *flag_cases('run', DRY, '--budget-mb', ['0']),
    *flag_cases('run', RUN, '--preset', ['huge']),
    *flag_cases('run', DRY, '--preset', ['huge']),
    *flag_cases('run', RUN, '--only', ['nomatch']),
    *flag_cases('run', DRY, '--only', ['nomatch']),
]

@pytest.fixture(scope='module')
def tr_env(tmp_path_factory):
    "The placeholders of the train and run cases: the sample corpus and bad paths (no registry needed)."
    from codelm.data import sample_corpus
    t = tmp_path_factory.mktemp('badtr')
    (t/'bin.dat').write_bytes(b'\x89PNG\r\n\x1a\n\0\0\xff\xfe' * 8); (t/'dir').mkdir()
    return dict(corpus=str(sample_corpus()), nope=str(t/'nope'), bin=str(t/'bin.dat'), dir=str(t/'dir'))

@pytest.mark.parametrize('argv, names', TRAIN_RUN_CASES)
def test_bad_train_or_run_flag(tr_env, tmp_path, argv, names):
    "Status 2, one line naming the flag, no traceback; --out, the registry and the report are not created, the corpus not changed."
    env = dict(tr_env, tmp=str(tmp_path))
    before = tree_hash(Path(env['corpus']))
    args = [a.format(**env) for a in argv]
    r = codelm(*args)
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 2, f'exit status {r.returncode}, stderr:\n{r.stderr[-2000:]}'
    assert 'Traceback' not in r.stderr and len(lines) == 1, r.stderr[-2000:]
    flag, v = (x.format(**env) for x in names)
    needles = [flag, flag.lstrip('-').replace('-', '_') + '='] + ([v] if v.startswith('/') else [])
    assert lines[0].startswith(f'codelm {args[0]}') and any(n in lines[0] for n in needles), (needles, lines[0])
    assert sorted(p.name for p in tmp_path.iterdir()) == [], f'created {sorted(p.name for p in tmp_path.iterdir())}'
    assert tree_hash(Path(env['corpus'])) == before, 'the corpus changed'
