"""Corpus builds against hostile input (issue 24): one bad source file or shard is a counted skip, never the end of a build;
a build that fails (an error, --strict, Ctrl-C, SIGTERM, SIGKILL) leaves the previous corpus as it was and no temporary files.
Library-oriented corpora (issue 35, point 5): the library detector, `--library`, and `--source packages`."""
import gzip, importlib.metadata, importlib.util, json, os, re, shutil, signal, subprocess, sys, time
from pathlib import Path
import pytest
from conftest import codelm
import codelm.data as data
from codelm.data import SPLITS, CorpusError, FileTimeout, Skips, build_corpus, check_library, filter_library, load_split, time_limit, uses_library

def leftovers(out) -> list[str]:
    "Build directories and temporary files under a corpus directory: a finished or failed build leaves none."
    out = Path(out)
    return sorted(str(p.relative_to(out)) for p in out.rglob('.*') if p.name.startswith('.build-') or p.name.endswith('.tmp'))

def split_bytes(out) -> dict:
    return {f: (Path(out)/f).read_bytes() for f in [f'{s}.jsonl.gz' for s in SPLITS] + ['stats.json']}

def small_source(root, tag=''):
    "Twelve packages of two functions each: a source that builds in about a second."
    for i in range(12):
        (root/f'p{i}').mkdir(parents=True)
        (root/f'p{i}'/'m.py').write_text(f'def f{i}(x):\n    """Doc."""\n    return x + {i}{tag}\n\ndef g{i}(y):\n    return [y] * {i + 2}{tag}\n')
    return root

def hostile_source(root):
    "Six good files, then one of each input that used to end a build, and two valid files a plain UTF-8 read dropped."
    root.mkdir()
    for i in range(6): (root/f'ok{i}.py').write_text(f'def f{i}(x):\n    """Doc."""\n    return x + {i}\n')
    (root/'deep.py').write_text('def f():\n    return ' + '1+' * 5000 + '1\n')     # RecursionError in the parser
    (root/'nots.py').write_text('def g():\n    return ' + 'not ' * 10000 + 'x\n')  # MemoryError in the parser
    (root/'loop.py').symlink_to('loop.py')                                          # OSError [Errno 40]
    (root/'gone.py').symlink_to('missing.py')                                       # a dangling symlink
    (root/'big.py').write_text('def big():\n    return [' + '1, ' * 20000 + ']\n')  # 60 kB, over --max-file-bytes 50000
    (root/'slow.py').write_text(''.join(f'def s{i}(x):\n    return x+{i}\n\n' for i in range(1000)))  # 33 kB, seconds of autopep8
    (root/'bom.py').write_bytes(b'\xef\xbb\xbfdef with_bom():\n    return "\xc3\xa9"\n')
    (root/'latin1.py').write_bytes(b'# -*- coding: latin-1 -*-\ndef latin():\n    return "caf\xe9"\n')
    return root

def fake_csn(root, tag=''):
    "A CodeSearchNet download in the official layout, with records that differ by `tag`."
    base = root/'python'/'final'/'jsonl'
    for s, n in dict(train=30, valid=4, test=4).items():
        (base/s).mkdir(parents=True)
        recs = [dict(repo=f'o/{s}{i}', path='a.py', func_name=f'{s}_{i}', code=f'def {s}_{i}(x):\n    return x * {i}{tag}\n', language='python')
                for i in range(n)]
        with gzip.open(base/s/f'python_{s}_0.jsonl.gz', 'wt') as f: f.writelines(json.dumps(r) + '\n' for r in recs)
    return root

def truncate(path):
    "Cut a file in half, as an interrupted download does."
    b = path.read_bytes(); path.write_bytes(b[:len(b) // 2])
    return path

@pytest.mark.parametrize('workers', ['1', '2'])
def test_hostile_directory_is_counted_not_fatal(tmp_path, workers):
    src, out = hostile_source(tmp_path/'src'), tmp_path/'c'
    r = codelm('corpus', 'build', '--source', src, '--out', out, '--workers', workers, '--max-file-bytes', 50_000, '--file-timeout', 0.5, '--json')
    assert r.returncode == 0, r.stderr
    st = json.loads(r.stdout)
    assert {k: v['count'] for k, v in st['skipped'].items()} == dict(file_too_complex=2, unreadable_file=2, file_too_large=1, file_timeout=1)
    ex = {k: sorted(v['examples']) for k, v in st['skipped'].items()}
    assert ex['file_too_complex'] == ['deep.py: nested too deeply for the parser (RecursionError)', 'nots.py: nested too deeply for the parser (MemoryError)']
    assert ex['unreadable_file'] == ['gone.py: No such file or directory', 'loop.py: Too many levels of symbolic links']
    assert ex['file_too_large'] == ['big.py: 60,025 bytes, over --max-file-bytes 50,000']
    assert ex['file_timeout'] == ['slow.py: over --file-timeout 0.5 s']
    assert st['limits'] == dict(max_file_bytes=50_000, file_timeout=0.5)
    recs = {r['func_name']: r for s in SPLITS for r in load_split(out, s)}
    assert set(recs) == {f'f{i}' for i in range(6)} | {'with_bom', 'latin'}
    assert recs['with_bom']['code'] == 'def with_bom():\n    return "é"\n' and recs['latin']['code'] == 'def latin():\n    return "café"\n'
    assert leftovers(out) == []
    summary = codelm('corpus', 'stats', out).stdout  # the summary names each reason and its first file
    assert 'file_timeout: slow.py: over --file-timeout 0.5 s' in summary and 'unreadable_file: ' in summary and '(and 1 more)' in summary

@pytest.mark.parametrize('flag,value', [('--max-file-bytes', '0'), ('--max-file-bytes', '-5'), ('--file-timeout', '0'),
                                        ('--file-timeout', '-1'), ('--file-timeout', 'nan')])
def test_limit_flags_are_validated(tmp_path, flag, value):
    src = small_source(tmp_path/'src')
    r = codelm('corpus', 'build', '--source', src, '--out', tmp_path/'c', flag, value)
    assert r.returncode == 2 and f'{flag} {value}: expected a positive' in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and 'Traceback' not in r.stderr
    assert not (tmp_path/'c').exists()

def test_truncated_shard_is_counted_with_file_and_line(tmp_path):
    csn = fake_csn(tmp_path/'csn'); tr = truncate(csn/'python'/'final'/'jsonl'/'train'/'python_train_0.jsonl.gz')
    r = codelm('corpus', 'build', '--source', 'csn', '--csn-path', csn, '--out', tmp_path/'c', '--workers', '1', '--json')
    assert r.returncode == 0, r.stderr
    st = json.loads(r.stdout)
    n = st['splits']['train']['functions']
    assert 0 < n < 30  # the records before the damage are kept
    assert st['skipped'] == dict(damaged_file=dict(count=1, examples=[
        f'{tr}:{n + 1}: the gzip stream ends early (a truncated file?): EOFError: Compressed file ended before the end-of-stream marker was reached']))
    assert leftovers(tmp_path/'c') == []

def test_failed_rebuild_leaves_the_previous_corpus(tmp_path):
    "The issue's sequence: build from A; rebuild from B, whose train shard is truncated, and fail; build from A again."
    a, b, out = fake_csn(tmp_path/'a'), fake_csn(tmp_path/'b', tag=' + 1'), tmp_path/'x'
    truncate(b/'python'/'final'/'jsonl'/'train'/'python_train_0.jsonl.gz')
    build = lambda src, *more: codelm('corpus', 'build', '--source', 'csn', '--csn-path', src, '--out', out, '--workers', '1', *more)
    assert build(a).returncode == 0
    before, recs_a = split_bytes(out), {s: load_split(out, s) for s in SPLITS}
    r = build(b, '--strict')  # B's test and valid splits are written before its train shard fails
    assert r.returncode == 2 and 'python_train_0.jsonl.gz:' in r.stderr and 'damaged_file' in r.stderr and 'Traceback' not in r.stderr
    assert split_bytes(out) == before and leftovers(out) == []
    again = build(a)
    assert again.returncode == 0 and 'up to date' in again.stdout
    assert {s: load_split(out, s) for s in SPLITS} == recs_a
    st = json.loads(build(b, '--json').stdout)  # without --strict, B builds, the damage counted
    assert st['skipped']['damaged_file']['count'] == 1
    assert all(r['code'].endswith(' + 1\n') for s in SPLITS for r in load_split(out, s))

def test_interrupted_directory_build_leaves_the_previous_corpus(tmp_path, monkeypatch):
    src, out = small_source(tmp_path/'src'), tmp_path/'c'
    build_corpus(src, out, workers=1, quiet=True)
    before = split_bytes(out)
    shutil.rmtree(src); small_source(src, tag=' + 1'); shutil.rmtree(out/'.cache')  # every file is read again
    real, calls = data.functions_from_source, []
    def interrupted(*a, **k):
        calls.append(k['path'])
        if len(calls) == 8: raise KeyboardInterrupt  # Ctrl-C, halfway through the train split
        return real(*a, **k)
    monkeypatch.setattr(data, 'functions_from_source', interrupted)
    with pytest.raises(KeyboardInterrupt): build_corpus(src, out, workers=1, quiet=True)
    assert split_bytes(out) == before and leftovers(out) == []
    monkeypatch.undo()
    st = build_corpus(src, out, workers=1, quiet=True)
    assert 'up_to_date' not in st and all(r['code'].rstrip().endswith(' + 1') for s in SPLITS for r in load_split(out, s))

def test_up_to_date_means_the_split_files_too(tmp_path):
    a, b = small_source(tmp_path/'a'), small_source(tmp_path/'b', tag=' + 1')
    build_corpus(a, tmp_path/'x', workers=1, quiet=True); build_corpus(b, tmp_path/'y', workers=1, quiet=True)
    good = split_bytes(tmp_path/'x')
    shutil.copy(tmp_path/'y'/'valid.jsonl.gz', tmp_path/'x'/'valid.jsonl.gz')  # a mixed corpus, as the old builds left
    st = build_corpus(a, tmp_path/'x', workers=1, quiet=True)
    assert 'up_to_date' not in st and split_bytes(tmp_path/'x')['valid.jsonl.gz'] == good['valid.jsonl.gz']
    assert build_corpus(a, tmp_path/'x', workers=1, quiet=True)['up_to_date']
    stats = json.loads((tmp_path/'x'/'stats.json').read_text()); del stats['files']  # stats.json of an older build: no hashes to check
    (tmp_path/'x'/'stats.json').write_text(json.dumps(stats))
    assert 'up_to_date' not in build_corpus(a, tmp_path/'x', workers=1, quiet=True)

@pytest.mark.parametrize('sig', [signal.SIGTERM, signal.SIGKILL])
def test_killed_build_leaves_no_temporary_files(tmp_path, sig):
    out = tmp_path/'c'
    build_corpus(small_source(tmp_path/'a'), out, workers=1, quiet=True)
    before = split_bytes(out)
    slow = small_source(tmp_path/'b', tag=' + 1')
    (slow/'p0'/'slow.py').write_text(''.join(f'def s{i}(x):\n    return x+{i}\n\n' for i in range(4000)))  # tens of seconds of autopep8
    code = f'from codelm.data import build_corpus; build_corpus({str(slow)!r}, {str(out)!r}, workers=1, quiet=True)'
    with open(tmp_path/'stderr', 'w') as err: p = subprocess.Popen([sys.executable, '-c', code], stderr=err, env={**os.environ, 'CODELM_NO_BAR': '1'})
    try:
        end = time.time() + 60
        while not list(out.glob('.build-*')) and time.time() < end and p.poll() is None: time.sleep(0.05)
        assert list(out.glob('.build-*')), (tmp_path/'stderr').read_text()
        time.sleep(0.5)
        assert p.poll() is None, 'the build should still be running'
        p.send_signal(sig)
        rc = p.wait(timeout=30)
    finally:
        if p.poll() is None: p.kill(); p.wait()
    assert split_bytes(out) == before  # the previous corpus, untouched
    if sig == signal.SIGTERM:
        assert rc == 128 + signal.SIGTERM and leftovers(out) == [], (rc, (tmp_path/'stderr').read_text()[-2000:])
    else:  # nothing runs on SIGKILL: the next build in the directory removes what it left
        assert rc == -signal.SIGKILL and leftovers(out)
        shutil.rmtree(slow/'p0'); build_corpus(slow, out, workers=1, quiet=True)
        assert leftovers(out) == []

def test_leftovers_of_dead_processes_only_are_removed(tmp_path):
    dead = int(subprocess.run([sys.executable, '-c', 'import os; print(os.getpid())'], capture_output=True, text=True).stdout)
    out = tmp_path/'c'; out.mkdir()
    stale = [out/f'.build-{dead}-abc', out/f'.train.jsonl.gz.{dead}.tmp']
    stale[0].mkdir(); (stale[0]/'train.jsonl.gz').write_bytes(b'half'); stale[1].write_bytes(b'half')
    alive = out/f'.build-{os.getpid()}-xyz'; alive.mkdir()  # another build, still running
    build_corpus(small_source(tmp_path/'src'), out, workers=1, quiet=True)
    assert not any(p.exists() for p in stale) and alive.exists()

def test_time_limit_stops_python_work_and_puts_the_timer_back():
    before = signal.getsignal(signal.SIGALRM)
    t = time.time()
    with pytest.raises(FileTimeout, match='over 0.2 s'):
        with time_limit(0.2):
            end = time.time() + 5
            while time.time() < end:
                try: time.sleep(0.01)
                except Exception: pass  # work that swallows errors does not swallow the limit
    assert time.time() - t < 2
    assert signal.getsignal(signal.SIGALRM) is before and signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    signal.signal(signal.SIGALRM, lambda *a: None); signal.setitimer(signal.ITIMER_REAL, 100)  # a caller's own timer runs on
    try:
        with time_limit(5) as tl: pass
        assert not tl['fired'] and 95 < signal.getitimer(signal.ITIMER_REAL)[0] <= 100
    finally: signal.setitimer(signal.ITIMER_REAL, 0); signal.signal(signal.SIGALRM, before)

@pytest.mark.parametrize('code, library, want', [
    ('import pandas as pd', 'pandas', True), ('from pandas import DataFrame', 'pandas', True), ('import numpy.linalg', 'numpy', True),
    ('import numpy.linalg', 'numpy.linalg', True), ('import numpy as np\nnp.zeros(2)', 'numpy.linalg', False),
    ('import numpy as np\nx = np.linalg.inv(a)', 'numpy.linalg', True), ('from numpy import linalg as la', 'numpy.linalg', True),
    ('def f(df):\n    return pd.merge(df, df)', 'pandas', True), ('def f(pd):\n    return pd.merge(x)', 'pandas', False),
    ('import polars as pd\npd.concat(x)', 'pandas', False), ('from .pandas import x', 'pandas', False), ('s = "import pandas"', 'pandas', False),
    ('import pandas_datareader', 'pandas', False), ('import os\nos.path.join(a)', 'os.path', True),
])
def test_uses_library(code, library, want):
    assert uses_library(code, library) is want

def test_filter_library_on_csn_records():
    recs = [dict(repo='r', path='a.py', func_name='load', language='python', code='def load(p):\n    return pd.read_csv(p)\n'),
            dict(repo='r', path='b.py', func_name='inv', language='python', code='def inv(a):\n    return np.linalg.inv(a)\n'),
            dict(repo='r', path='c.py', func_name='plain', language='python', code='def plain(a):\n    return a + 1\n'),
            dict(repo='r', path='d.py', func_name='bad', language='python', code='def bad(:\n')]
    sk = Skips()
    assert [r['func_name'] for r in filter_library(recs, 'numpy', sk)] == ['inv'] and sk.counts == {'syntax_error': 1}
    with pytest.raises(CorpusError, match=r'record 3 \(d.py\):1: does not parse'): filter_library(recs, 'pandas')
    with pytest.raises(CorpusError, match="record 0: expected an object with a 'code' string"): filter_library([{'code': 3}], 'pandas')

@pytest.mark.parametrize('name, want', [('pandsa', "--library 'pandsa': not a library codelm knows"), ('nump', "did you mean 'numpy'?"),
                                        ('pandas;rm', "--library 'pandas;rm': expected a module name"), ('', "--library '': expected a module name")])
def test_unknown_or_invalid_library_is_one_line(name, want):
    with pytest.raises(CorpusError) as e: check_library(name)
    assert want in str(e.value) and '\n' not in str(e.value)

def library_source(root, n=15):
    "n packages of four files: pandas imported as pd (one function uses it, one does not), `from numpy import linalg` (used), nothing, both imported in the function."
    for i in range(n):
        d = root/f'p{i}'; d.mkdir(parents=True)
        (d/'frames.py').write_text(f'import pandas as pd\n\ndef load{i}(p):\n    return pd.read_csv(p, nrows={i})\n\ndef count{i}(xs):\n    return len(xs) + {i}\n')
        (d/'algebra.py').write_text(f'from numpy import linalg\n\ndef inv{i}(a):\n    return linalg.inv(a) * {i}\n')
        (d/'plain.py').write_text(f'def add{i}(x):\n    return x + {i}\n')
        (d/'local.py').write_text(f'def both{i}(a):\n    import numpy as np\n    import pandas\n    return pandas.DataFrame(np.eye({i}))\n')
    return root

def test_library_keeps_the_functions_that_use_it(tmp_path):
    "`--library`: a function is kept when it uses the library through its own imports or its file's; the others are counted, not skipped."
    src = library_source(tmp_path/'src')
    build = lambda lib: json.loads(codelm('corpus', 'build', '--source', src, '--out', tmp_path/lib, '--library', lib, '--no-autopep8', '--workers', '1', '--json', check=True).stdout)
    got = {lib: build(lib) for lib in ('pandas', 'numpy', 'numpy.linalg')}
    assert {lib: (st['library']['kept'], st['library']['left_out']) for lib, st in got.items()} == {'pandas': (30, 45), 'numpy': (30, 45), 'numpy.linalg': (15, 60)}
    assert got['pandas']['library'] == dict(name='pandas', kept=30, left_out=45, share_kept=0.4) and got['pandas']['skipped'] == {}
    names = lambda lib: sorted(re.sub(r'\d+$', '', r['func_name']) for s in SPLITS for r in load_split(tmp_path/lib, s))
    assert names('pandas') == ['both'] * 15 + ['load'] * 15 and names('numpy.linalg') == ['inv'] * 15
    assert sum(got['numpy']['splits'][s]['functions'] for s in SPLITS) == 30 and all(got['numpy']['splits'][s]['functions'] for s in SPLITS)
    assert len({st['fingerprint'] for st in got.values()}) == 3
    assert 'library pandas: 30 functions use it, 45 left out' in codelm('corpus', 'stats', tmp_path/'pandas').stdout

def test_a_full_split_reads_no_more_files(tmp_path):
    "`--limit N`: the first N functions of each split, as before, and a split once full reads none of its other files (they are numbered in stats.json)."
    src = library_source(tmp_path/'src', n=30)
    full = build_corpus(src, tmp_path/'full', autopep8=False, workers=2, quiet=True)
    st = build_corpus(src, tmp_path/'cut', autopep8=False, workers=2, limit=5, quiet=True)
    assert st['splits']['train']['functions'] == 5 and full['splits']['train']['functions'] > 5
    assert [r['code'] for r in load_split(tmp_path/'cut', 'train')] == [r['code'] for r in load_split(tmp_path/'full', 'train')][:5]
    assert st['limits']['files_not_read'] > 50 and 'files_not_read' not in full['limits'], (st['limits'], full['limits'])
    assert 'files of full splits not read' in data.format_stats(st)

def installed_package(site, version, n=20):
    "`toylib` as pip installs it: the package under `site` with its dist-info; n folders of tests that call it."
    pkg = site/'toylib'
    for i in range(n):
        (pkg/'tests'/f'f{i}').mkdir(parents=True, exist_ok=True)
        (pkg/'tests'/f'f{i}'/f'test_{i}.py').write_text(f'import toylib as tl\n\ndef test_{i}():\n    assert tl.double({i}) == {2 * i}\n')
    (pkg/'__init__.py').write_text('def double(x):\n    return 2 * x\n')
    meta = site/'toylib-0.dist-info'; meta.mkdir(exist_ok=True)
    (meta/'METADATA').write_text(f'Metadata-Version: 2.1\nName: toylib\nVersion: {version}\n'); (meta/'top_level.txt').write_text('toylib\n')
    return site

def test_packages_source_records_versions_and_splits(tmp_path, monkeypatch):
    "`--source packages`: an installed package's name and version in stats.json and the fingerprint, test suites read, three splits by folder."
    monkeypatch.syspath_prepend(str(installed_package(tmp_path/'site', '1.0')))
    build = lambda *more: json.loads(codelm('corpus', 'build', '--source', 'packages', '--packages', 'toylib', '--out', tmp_path/'c', '--no-autopep8',
                                            '--workers', '1', '--json', *more, check=True).stdout)
    st = build('--library', 'toylib')
    assert st['packages'] == [dict(name='toylib', distribution='toylib', version='1.0', files=21)]
    assert st['library'] == dict(name='toylib', kept=20, left_out=1, share_kept=0.9524)
    assert all(st['splits'][s]['functions'] for s in SPLITS) and sum(st['splits'][s]['functions'] for s in SPLITS) == 20, st['splits']
    units = {s: {r['repo'] for r in load_split(tmp_path/'c', s)} for s in SPLITS}
    assert not (units['train'] & units['test']) and not (units['train'] & units['valid']) and all(u.startswith('toylib==1.0/toylib/tests/f') for v in units.values() for u in v)
    installed_package(tmp_path/'site', '1.1')  # a new version, the same files: a new corpus
    st2 = build('--library', 'toylib')
    assert st2['packages'][0]['version'] == '1.1' and st2['fingerprint'] != st['fingerprint'] and 'up_to_date' not in st2
    assert build('--exclude-tests')['packages'][0]['files'] == 1

def test_packages_source_reads_a_real_installed_package(tmp_path):
    "A small package this project installs (tokenizers): its installed version recorded, every .py file read, records named by version."
    st = json.loads(codelm('corpus', 'build', '--source', 'packages', '--packages', 'tokenizers', '--out', tmp_path/'c', '--no-autopep8', '--workers', '1',
                           '--json', check=True).stdout)
    v = importlib.metadata.version('tokenizers')
    root = Path(importlib.util.find_spec('tokenizers').submodule_search_locations[0])
    assert st['packages'] == [dict(name='tokenizers', distribution='tokenizers', version=v, files=len(list(root.rglob('*.py'))))]
    assert st['settings']['packages'] == [dict(name='tokenizers', distribution='tokenizers', version=v)] and st['settings']['exclude_tests'] is False
    recs = [r for s in SPLITS for r in load_split(tmp_path/'c', s)]
    assert len(recs) > 20 and all(r['repo'].startswith(f'tokenizers=={v}/tokenizers') and r['url'].startswith(f'pkg:pypi/tokenizers@{v}/tokenizers/') for r in recs)

@pytest.mark.parametrize('args, want', [
    (['--library', 'pandsa'], "--library 'pandsa': not a library codelm knows (not installed, not in the standard library, not one of pandas, numpy,"),
    (['--library', 'my-lib'], "--library 'my-lib': expected a module name such as pandas or numpy.linalg"),
    (['--source', 'packages'], '--source packages needs --packages: the installed packages to read, comma-separated, such as pandas,numpy'),
    (['--source', 'packages', '--packages', 'pandsa'], "--packages pandsa: not installed here (no module named 'pandsa'); did you mean 'pandas'?"),
    (['--source', 'packages', '--packages', 'pandas,,numpy'], "--packages 'pandas,,numpy': an empty name; expected installed packages"),
    (['--source', 'packages', '--packages', 'numpy.linalg'], "--packages 'numpy.linalg': expected the import name of an installed top-level package"),
    (['--source', 'packages', '--packages', 'sys'], '--packages sys: built-in, no .py files (a compiled or built-in module)'),
    (['--packages', 'pandas'], '--packages pandas: installed packages are read by --source packages, not --source '),
    (['--source', 'csn', '--csn-path', '.', '--language', 'java', '--library', 'pandas'], '--library pandas: looks for Python imports, and --language java is not Python'),
    (['--include-tests', '--exclude-tests'], 'argument --exclude-tests: not allowed with argument --include-tests'),
])
def test_bad_library_or_packages_flag_is_one_line(tmp_path, args, want):
    if '--source' not in args: args = ['--source', small_source(tmp_path/'src'), *args]
    r = codelm('corpus', 'build', '--out', tmp_path/'c', *args)
    assert r.returncode == 2 and want in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert 'Traceback' not in r.stderr and not (tmp_path/'c').exists()
