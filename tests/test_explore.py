"End to end: `codelm explore` serves the explorer with Voila; headless Chromium (Playwright, the system's Chromium) types a prompt, clicks Generate and sees both models' completions; SIGTERM stops the server, its kernels and the port."
import contextlib, json, os, shutil, signal, socket, subprocess, sys, threading, time, urllib.request
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = Path(os.environ.get('CODELM_ARTIFACTS', ROOT/'tests'/'artifacts'))
CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
                 '--disable-component-update', '--disable-sync']

def system_chromium() -> str:
    "Path of the system Chromium, installed by tools/install_browser.sh if missing; skips the test when none can be had."
    r = subprocess.run(['bash', str(ROOT/'tools'/'install_browser.sh')], capture_output=True, text=True, timeout=1500)
    for p in ('/usr/bin/chromium', shutil.which('chromium'), shutil.which('chromium-browser')):
        if p and Path(p).exists(): return p
    pytest.skip(f'no Chromium, and none could be installed: {r.stdout.strip() or r.stderr.strip()}')

def explore_cmd() -> list[str]:
    "The command that runs `codelm`: the console script, or the CLI through this interpreter."
    exe = Path(sys.executable).parent/'codelm'
    return [str(exe)] if exe.exists() else [sys.executable, '-c', 'import sys; from codelm.cli import main; sys.exit(main())']

def free_port() -> int:
    with socket.socket() as s: s.bind(('127.0.0.1', 0)); return s.getsockname()[1]

def wait_for_port(port, proc, timeout=60, log=None):
    "Wait until `proc` listens on `port`; its output (from its pipe, or the file `log`) if it exits first."
    t = time.time()
    while time.time() - t < timeout:
        if proc.poll() is not None:
            out = (log.seek(0), log.read())[1] if log else proc.stdout.read() if proc.stdout else ''
            raise AssertionError(f'codelm explore exited with {proc.returncode}:\n{out}')
        try:
            with socket.create_connection(('127.0.0.1', port), timeout=1): return
        except OSError: time.sleep(0.3)
    raise AssertionError(f'codelm explore did not listen on 127.0.0.1:{port} within {timeout}s')

CPU_RUNS = ROOT/'runs'/'cpu'  # the registry `make run` writes
SHOWN = ('awd_lstm-char', 'gpt2')
DOCS_SHOT = ROOT/'nbs'/'images'/'explorer.png'  # the docs' picture of the explorer (tools/docs.py)

def cpu_registry() -> bool:
    "Whether `make run` has left finished `cpu` runs of the two models the test shows."
    from codelm.rundir import run_finished
    return all(run_finished(CPU_RUNS/n) for n in SHOWN)

@pytest.fixture(scope='module')
def runs(tmp_path_factory, request):
    "The `cpu` registry's AWD-LSTM on chars and GPT-2 when `make run` has written them, else the session's smoke runs, in a registry of their own."
    dest = tmp_path_factory.mktemp('explore')/'runs'
    if cpu_registry():
        for n in SHOWN: shutil.copytree(CPU_RUNS/n, dest/n)
        return dest
    from conftest import copy_runs
    return copy_runs(request.getfixturevalue('smoke_registry'), dest, SHOWN)

def test_explore_in_chromium(runs, tmp_path):
    with explorer_page(runs, tmp_path, height=1100) as (page, panels, sync_api):
        try: page.locator('.js-plotly-plot').first.wait_for(timeout=15_000)  # the figure comes when every panel is done
        except sync_api.TimeoutError: pass  # asserted below, after the screenshot
        shot = ARTIFACTS/'explore.png'
        shot.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(shot), full_page=True)
        print(f'screenshot: {shot}')
        text = [panels.nth(i).inner_text() for i in range(panels.count())]
        assert len(text) == 2, f'expected a panel per run, got {len(text)}: {text}'
        assert any('gpt2' in x for x in text) and any('awd_lstm-char' in x for x in text), text
        for i in range(2):
            assert panels.nth(i).locator('.codelm-sample').count() >= 1, f'no completion in panel {i}: {text[i]}'
            assert 'bits/byte' in text[i] and 'error' not in text[i].lower(), text[i]
        assert page.locator('.js-plotly-plot').count() >= 1, 'the plotly figure of the prompt bits did not appear'
        if cpu_registry():  # trained models: the screenshot becomes the docs' picture of the explorer
            DOCS_SHOT.parent.mkdir(exist_ok=True); shutil.copy(shot, DOCS_SHOT)

def _alive(p) -> bool:
    "Whether the psutil process `p` still runs (a zombie waiting for init does not)."
    try: return p.is_running() and p.status() != 'zombie'
    except Exception: return False

def test_sigterm_stops_server_and_kernels(runs, tmp_path):
    "SIGTERM (what `timeout` sends) to `codelm explore` once a page has started a kernel: no process is left, the port is free, the app's temporary directory is gone."
    psutil = pytest.importorskip('psutil', reason='psutil (a Jupyter kernel dependency) finds the processes')
    port, tmp = free_port(), tmp_path/'tmp'; tmp.mkdir()
    env = {**os.environ, 'CODELM_NO_BAR': '1', 'TMPDIR': str(tmp)}  # the app's temporary directory goes under tmp
    log = open(tmp_path/'explore.log', 'w+')  # a file, not a pipe: an orphaned server holding a pipe open would hang the read
    proc = subprocess.Popen(explore_cmd() + ['explore', '--runs', str(runs), '--port', str(port)], stdout=log, stderr=subprocess.STDOUT,
                            text=True, env=env, start_new_session=True)
    def page():
        try: urllib.request.urlopen(f'http://127.0.0.1:{port}/', timeout=120).read()
        except Exception: pass  # the server goes away under it
    try:
        wait_for_port(port, proc, log=log)
        assert len(list(tmp.glob('codelm-explore-*'))) == 1
        threading.Thread(target=page, daemon=True).start()  # Voila starts a kernel for the page, in a session of its own
        t, kernels = time.time(), []
        while not kernels and time.time() - t < 90:
            time.sleep(0.2)
            kernels = [k for k in psutil.Process(proc.pid).children(recursive=True) if 'ipykernel' in ' '.join(k.cmdline())]
        assert kernels, 'no kernel started for the page'
        tree = psutil.Process(proc.pid).children(recursive=True)
        assert any(os.getsid(k.pid) != os.getsid(proc.pid) for k in kernels)  # so killing codelm's session alone would miss it
        proc.send_signal(signal.SIGTERM)
        rc = proc.wait(60)
        time.sleep(0.5)  # what is left of the tree after codelm exits (nothing, unless codelm left its server behind)
    finally:
        if proc.poll() is None: os.killpg(proc.pid, signal.SIGKILL); proc.wait()
        left = [p for p in locals().get('tree', []) if _alive(p)]
        for p in left: p.kill()  # never leave a server behind, even when the test fails
        log.close()
    out = (tmp_path/'explore.log').read_text()
    assert left == [], f'left running after codelm exited ({rc}): {[(p.pid, p.name()) for p in left]}\n{out}'
    assert rc == 128 + signal.SIGTERM, out
    assert 'stopped by SIGTERM' in out and 'Traceback' not in out, out
    with socket.socket() as s:  # nothing listens on the port: a new server can have it (SO_REUSEADDR, as servers bind, past the page's TIME_WAIT)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('127.0.0.1', port)); s.listen()
    assert list(tmp.glob('codelm-explore-*')) == []

@contextlib.contextmanager
def explorer_page(runs, tmp_path, height:int):
    "`codelm explore --runs runs` in Chromium: a prompt typed, Generate clicked, and every panel done (a sample or an error); yields (page, panels, sync_api)."
    chromium = system_chromium()
    sync_api = pytest.importorskip('playwright.sync_api', reason='the playwright package is not installed (pip install playwright)')
    port, log = free_port(), open(tmp_path/'explore.log', 'w+')
    env = {**os.environ, 'PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD': '1', 'CODELM_NO_BAR': '1'}
    proc = subprocess.Popen(explore_cmd() + ['explore', '--runs', str(runs), '--port', str(port)], stdout=log, stderr=subprocess.STDOUT,
                            text=True, env=env, start_new_session=True)  # its own process group: voila and its kernel die with it
    try:
        wait_for_port(port, proc, log=log)
        with sync_api.sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS, headless=True)
            try:
                page = browser.new_page(viewport={'width': 1400, 'height': height})
                page.goto(f'http://127.0.0.1:{port}/', timeout=90_000)
                prompt = page.locator('.codelm-prompt textarea')
                prompt.wait_for(timeout=90_000)
                prompt.fill('def add(a, b):\n    return')
                page.wait_for_timeout(300)  # let the widget sync the prompt to the kernel
                page.locator('.codelm-generate').click()
                panels, t = page.locator('.codelm-panel'), time.time()
                def done(i): return panels.nth(i).locator('.codelm-sample').count() > 0 or panels.nth(i).locator('.codelm-err').count() > 0
                while time.time() - t < 90:
                    if panels.count() == 2 and all(done(i) for i in range(2)): break
                    page.wait_for_timeout(300)
                yield page, panels, sync_api
            finally: browser.close()
    finally:
        try: os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError: pass
        try: proc.wait(15)
        except subprocess.TimeoutExpired: os.killpg(proc.pid, signal.SIGKILL); proc.wait()
        log.close()

TRANSFORMERS = ('gpt2', 'bert')

@pytest.fixture(scope='module')
def transformer_runs(tmp_path_factory, request):
    "A registry of two transformer runs only, GPT-2 and BERT (the `cpu` registry's when `make run` wrote them, else the smoke runs'): the explorer picks both."
    from codelm.rundir import run_finished
    dest = tmp_path_factory.mktemp('explore2')/'runs'
    if all(run_finished(CPU_RUNS/n) for n in TRANSFORMERS):
        for n in TRANSFORMERS: shutil.copytree(CPU_RUNS/n, dest/n)
        return dest
    from conftest import copy_runs
    return copy_runs(request.getfixturevalue('smoke_registry'), dest, TRANSFORMERS)

def test_two_transformers_in_chromium(transformer_runs, tmp_path):
    "Issue 40.4: GPT-2 and BERT picked together load at once on the first click; both panels complete (loaded in parallel threads, they failed with `Cannot copy out of meta tensor`)."
    with explorer_page(transformer_runs, tmp_path, height=1000) as (page, panels, sync_api):
        text = [panels.nth(i).inner_text() for i in range(panels.count())]
        if any(panels.nth(i).locator('.codelm-err').count() for i in range(panels.count())):
            shot = ARTIFACTS/'explore-two-transformers.png'; shot.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(shot), full_page=True); print(f'screenshot: {shot}')
    assert len(text) == 2 and all(any(n in x for x in text) for n in TRANSFORMERS), text
    for x in text: assert 'bits/byte' in x and 'meta tensor' not in x and '⚠' not in x, text

BOOM = 'def secret_helper():\n    raise RuntimeError("boom in the app")\nsecret_helper()'

def _get(port, host, path='/'):
    "Status and body of GET `path` from 127.0.0.1:`port` with the Host header `host`."
    import http.client
    c = http.client.HTTPConnection('127.0.0.1', port, timeout=120)
    try:
        c.putrequest('GET', path, skip_host=True); c.putheader('Host', host); c.endheaders()
        r = c.getresponse(); return r.status, r.read().decode(errors='replace')
    finally: c.close()

def _kernels(pid) -> list:
    "The live kernels among the processes that `pid` started."
    import psutil
    return [k for k in psutil.Process(pid).children(recursive=True) if 'ipykernel' in _cmd(k) and _alive(k)]

def _cmd(p) -> str:
    "The start of the command line of the psutil process `p`, or why it has none."
    try: return ' '.join(p.cmdline())[:80]
    except Exception as e: return type(e).__name__

def _wait(cond, timeout) -> bool:
    t = time.time()
    while time.time() - t < timeout:
        if cond(): return True
        time.sleep(0.2)
    return cond()

def test_server_settings(tmp_path):
    "Issue 40.7 a-c, and a kernel outliving Voila: the server `voila_command` starts refuses a foreign Host header, shows no traceback, culls an idle kernel; SIGKILL of Voila ends its kernel."
    pytest.importorskip('psutil', reason='psutil (a Jupyter kernel dependency) finds the processes')
    from codelm.explore import voila_command
    nb = tmp_path/'app'/'boom.ipynb'; nb.parent.mkdir()
    nb.write_text(json.dumps(dict(nbformat=4, nbformat_minor=5, metadata=dict(kernelspec=dict(name='python3', display_name='Python 3', language='python')),
                                  cells=[dict(cell_type='code', id='boom', metadata={}, execution_count=None, outputs=[], source=BOOM)])))
    port, log = free_port(), open(tmp_path/'voila.log', 'w+')
    (tmp_path/'tmp').mkdir()  # Voila's connection files: SIGKILL below leaves them
    proc = subprocess.Popen(voila_command(nb, port, idle=2, every=1), stdout=log, stderr=subprocess.STDOUT, cwd=nb.parent, start_new_session=True,
                            env={**os.environ, 'TMPDIR': str(tmp_path/'tmp')})
    try:
        wait_for_port(port, proc, log=log)
        # (b) DNS rebinding: a page of evil.example resolved to 127.0.0.1 sends its own name as Host; refused before a kernel starts
        for host in ('evil.example', f'evil.example:{port}'):
            status, _ = _get(port, host)
            assert status == 403, f'Host: {host} got {status}, expected 403'
        assert _kernels(proc.pid) == []
        status, page = _get(port, f'127.0.0.1:{port}')
        assert status == 200 and _get(port, f'localhost:{port}', '/voila/static/voila.js')[0] == 200
        # (c) the cell raised, and the page says so without the traceback
        assert 'There was an error when executing cell' in page, page[-2000:]
        assert 'Traceback' not in page and 'boom in the app' not in page and 'secret_helper' not in page, 'a traceback in the page'
        # (a) the page's kernel is culled once idle (idle=2 s here; 900 s in `codelm explore`)
        assert _wait(lambda: _kernels(proc.pid) == [], 20), f'the page kernel was not culled: {_kernels(proc.pid)}'
        # a kernel does not outlive Voila killed by SIGKILL (ipykernel watches its parent)
        _get(port, f'localhost:{port}')
        kernels = _kernels(proc.pid); assert kernels
        os.killpg(proc.pid, signal.SIGKILL); proc.wait()
        assert _wait(lambda: not any(_alive(k) for k in kernels), 10), 'a kernel outlived Voila'
    finally:
        if proc.poll() is None: os.killpg(proc.pid, signal.SIGKILL); proc.wait()
        for k in locals().get('kernels', []):
            if _alive(k): k.kill()
        log.close()

def test_sigkill_stops_server_and_kernels(runs, tmp_path):
    "Issue 40.7 d: `kill -9` of `codelm explore` once a page has started a kernel: within seconds no Voila or kernel of it is left and the port is closed."
    psutil = pytest.importorskip('psutil', reason='psutil (a Jupyter kernel dependency) finds the processes')
    port, log, tmp = free_port(), open(tmp_path/'explore.log', 'w+'), tmp_path/'tmp'; tmp.mkdir()
    proc = subprocess.Popen(explore_cmd() + ['explore', '--runs', str(runs), '--port', str(port)], stdout=log, stderr=subprocess.STDOUT,
                            text=True, env={**os.environ, 'CODELM_NO_BAR': '1', 'TMPDIR': str(tmp)}, start_new_session=True)  # SIGKILL leaves the app's directory: in tmp_path
    def page():
        try: urllib.request.urlopen(f'http://127.0.0.1:{port}/', timeout=120).read()
        except Exception: pass  # the server goes away under it
    tree = []
    try:
        wait_for_port(port, proc, log=log)
        threading.Thread(target=page, daemon=True).start()
        assert _wait(lambda: _kernels(proc.pid), 90), 'no kernel started for the page'
        tree = psutil.Process(proc.pid).children(recursive=True)
        proc.kill(); proc.wait(); t = time.time()
        gone = _wait(lambda: not any(_alive(p) for p in tree), 15)
        secs = time.time() - t
    finally:
        if proc.poll() is None: proc.kill(); proc.wait()
        left = [(p, _cmd(p)) for p in tree if _alive(p)]
        for p, _ in left: p.kill()  # never leave a server behind, even when the test fails
        log.close()
    assert gone and left == [], f'left running {secs:.0f} s after kill -9 of codelm explore: {[(p.pid, c) for p, c in left]}'
    print(f'voila and its kernel gone {secs:.1f} s after kill -9')
    with socket.socket() as s:  # nothing listens on the port
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('127.0.0.1', port)); s.listen()
