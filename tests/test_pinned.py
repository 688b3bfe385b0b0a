"""Pinned registry packages (issue 34, point 2), the parts that need subprocesses: the real getters run their clients
(`pip download`, `npm pack`, `apt-get download`; stand-ins on PATH here, so no network), a client's failure is one
line naming the package, its version and its registry, and a fetch cut off by SIGINT or SIGKILL leaves nothing
half-written: the next run fetches the package whole. The rest is tested in nbs/00f_pinned.ipynb."""
import hashlib, io, os, signal, subprocess, sys, tarfile, textwrap, time
from pathlib import Path
import pytest
import codelm.pinned as pinned
from codelm.pinned import Entry, PinnedError, fetch, materialize, read_lock

def tgz(path, files:dict, top='package') -> Path:
    "A .tar.gz at `path` holding `files` (name -> text) under `top`."
    with tarfile.open(path, 'w:gz') as t:
        for name, text in files.items():
            info = tarfile.TarInfo(f'{top}/{name}')
            info.size = len(text.encode())
            t.addfile(info, io.BytesIO(text.encode()))
    return Path(path)

def sha(path) -> str: return hashlib.sha256(Path(path).read_bytes()).hexdigest()

def stand_in(bin_dir:Path, name:str, body:str) -> Path:
    "An executable shell script `name` in `bin_dir`, standing in for a registry client."
    bin_dir.mkdir(parents=True, exist_ok=True)
    p = bin_dir/name
    p.write_text('#!/bin/sh\n' + textwrap.dedent(body))
    p.chmod(0o755)
    return p

@pytest.fixture
def on_path(tmp_path, monkeypatch):
    "A directory put first on PATH for stand-in clients."
    d = tmp_path/'bin'
    d.mkdir()
    monkeypatch.setenv('PATH', f"{d}{os.pathsep}{os.environ['PATH']}")
    return d

def test_npm_getter_runs_npm_pack_and_the_file_is_verified(tmp_path, on_path):
    pkg = tgz(tmp_path/'served.tgz', {'index.js': 'module.exports = 1;\n'})
    stand_in(on_path, 'npm', f'''
        echo "$@" > {tmp_path}/npm-args
        cp {pkg} "$PWD/leftpad-1.3.0.tgz"
        echo leftpad-1.3.0.tgz
    ''')
    e = Entry('npm', 'leftpad', '1.3.0', sha(pkg), 'test', where='x.lock:1')
    got = fetch(e, tmp_path/'cache')
    assert got == tmp_path/'cache'/'archives'/'npm-leftpad-1.3.0'/'leftpad-1.3.0.tgz' and sha(got) == e.sha256
    assert (tmp_path/'npm-args').read_text().split() == ['pack', 'leftpad@1.3.0', '--ignore-scripts', '--silent']

def test_npm_failure_is_one_line_naming_package_version_and_registry(tmp_path, on_path):
    stand_in(on_path, 'npm', '''
        echo "npm error code E404" >&2
        echo "npm error 404 Not Found - GET https://example.invalid/leftpad - Not found" >&2
        echo "npm error 404  'leftpad@9.9.9' is not in this registry." >&2
        echo "npm error A complete log of this run can be found in: /root/.npm/_logs/x.log" >&2
        exit 1
    ''')
    with pytest.raises(PinnedError) as err: fetch(Entry('npm', 'leftpad', '9.9.9', 'a' * 64, 'test', where='x.lock:2'), tmp_path/'c')
    msg = str(err.value)
    assert '\n' not in msg
    assert msg == "x.lock:2: cannot fetch npm package leftpad 9.9.9: npm exited 1: 'leftpad@9.9.9' is not in this registry."
    assert not (tmp_path/'c'/'archives').exists() or not any((tmp_path/'c'/'archives').iterdir())

def test_debian_getter_and_its_hint_when_a_version_left_the_archive(tmp_path, on_path):
    deb = tmp_path/'ruby-thor_1.2.1-2_all.deb'
    deb.write_bytes(b'!<arch>\n')
    stand_in(on_path, 'apt-get', f'''
        [ "$2" = "ruby-thor=1.2.1-2" ] && cp {deb} "$PWD/" && exit 0
        echo "W: Download is performed unsandboxed as root" >&2
        echo "E: Version '1.0' for 'ruby-thor' was not found" >&2
        exit 100
    ''')
    got = fetch(Entry('debian', 'ruby-thor', '1.2.1-2', sha(deb), 'train'), tmp_path/'c')
    assert got.name == deb.name
    with pytest.raises(PinnedError) as err: fetch(Entry('debian', 'ruby-thor', '1.0', 'a' * 64, 'test', where='p.lock:9'), tmp_path/'c')
    msg = str(err.value)
    assert msg.startswith("p.lock:9: cannot fetch Debian package ruby-thor 1.0: apt-get exited 100: "
                          "Version '1.0' for 'ruby-thor' was not found (run 'apt-get update'"), msg
    assert '\n' not in msg

def test_pypi_getter_asks_pip_for_the_sdist_alone(tmp_path, monkeypatch):
    sdist = tgz(tmp_path/'demo-1.0.tar.gz', {'demo.py': 'x = 1\n'}, top='demo-1.0')
    fake = stand_in(tmp_path/'bin', 'pip', f'''
        echo "$@" > {tmp_path}/pip-args
        case "$*" in *demo==1.0*) cp {sdist} "$7/" ;; *) echo "ERROR: Could not find a version (from versions: 0.1)" >&2
        echo "ERROR: No matching distribution found for demo==2.0" >&2; exit 1 ;; esac
    ''')
    monkeypatch.setattr(pinned, 'PIP', [str(fake)])
    got = fetch(Entry('pypi-sdist', 'demo', '1.0', sha(sdist), 'valid'), tmp_path/'c')
    assert got.name == 'demo-1.0.tar.gz'
    args = (tmp_path/'pip-args').read_text().split()
    assert args[:5] == ['download', '--no-deps', '--no-binary', 'demo', 'demo==1.0'], args
    with pytest.raises(PinnedError, match=r'cannot fetch PyPI package demo 2\.0: pip exited 1: No matching distribution found for demo==2\.0$'):
        fetch(Entry('pypi-sdist', 'demo', '2.0', 'a' * 64, 'valid'), tmp_path/'c')

def test_a_missing_client_is_one_line(tmp_path, monkeypatch):
    monkeypatch.setenv('PATH', str(tmp_path/'empty'))
    with pytest.raises(PinnedError, match=r"^x\.lock:3: cannot fetch npm package a 1\.0: npm is not installed$"):
        fetch(Entry('npm', 'a', '1.0', 'a' * 64, 'test', where='x.lock:3'), tmp_path/'c')

SLOW_FETCH = '''
import sys, time
from pathlib import Path
from codelm.pinned import materialize
def slow(entry, dest):
    p = Path(dest)/'slow-1.0.tgz'
    p.write_bytes(b'half a package')  # half-written when the signal comes
    print('WRITING', flush=True)
    time.sleep(60)
materialize(sys.argv[1], sys.argv[2], {'npm': slow})
'''

def interrupted(tmp_path, sig) -> Path:
    "Run a materialize whose fetch hangs half-written, send it `sig`, and return its cache."
    pkg = tgz(tmp_path/'slow.tgz', {'index.js': 'module.exports = 1;\n'})
    lock, cache = tmp_path/'x.lock', tmp_path/'cache'
    lock.write_text(f'npm slow 1.0 {sha(pkg)} test javascript\n')
    p = subprocess.Popen([sys.executable, '-c', SLOW_FETCH, str(lock), str(cache)], stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == 'WRITING'
    p.send_signal(sig)
    p.wait(timeout=30)
    assert not (cache/'archives'/'npm-slow-1.0').exists()  # never in place half-written
    pairs = materialize(lock, cache, {'npm': lambda e, d: Path(__import__('shutil').copy(pkg, Path(d)/'slow-1.0.tgz'))},
                        log=lambda *a: None)
    assert [r.name for _, r in pairs] == ['npm-slow-1.0'] and (pairs[0][1]/'index.js').is_file()
    return cache

@pytest.mark.parametrize('sig', [signal.SIGINT, signal.SIGKILL], ids=['SIGINT', 'SIGKILL'])
def test_an_interrupted_fetch_leaves_nothing_half_written(tmp_path, sig):
    cache = interrupted(tmp_path, sig)
    left = sorted(p.name for p in (cache/'archives').iterdir())
    assert left == ['npm-slow-1.0'], left  # the dead run's temporary directory was cleared by the next run
    assert read_lock(tmp_path/'x.lock')[0].name == 'slow'
