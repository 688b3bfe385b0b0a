"End to end: `codelm explore` serves the explorer with Voila; headless Chromium (Playwright, the system's Chromium) types a prompt, clicks Generate and sees both models' completions; SIGTERM stops the server, its kernels and the port."
import os, shutil, signal, socket, subprocess, sys, threading, time, urllib.request
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

def free_port() -> int:
    with socket.socket() as s: s.bind(('127.0.0.1', 0)); return s.getsockname()[1]

def wait_for_port(port, proc, timeout=60):
    t = time.time()
    while time.time() - t < timeout:
        if proc.poll() is not None: raise AssertionError(f'codelm explore exited with {proc.returncode}:\n{proc.stdout.read()}')
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
    chromium = system_chromium()
    sync_api = pytest.importorskip('playwright.sync_api', reason='the playwright package is not installed (pip install playwright)')
    port = free_port()
    exe = Path(sys.executable).parent/'codelm'
    cmd = [str(exe)] if exe.exists() else [sys.executable, '-c', 'import sys; from codelm.cli import main; sys.exit(main())']
    env = {**os.environ, 'PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD': '1', 'CODELM_NO_BAR': '1'}
    proc = subprocess.Popen(cmd + ['explore', '--runs', str(runs), '--port', str(port)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, env=env, start_new_session=True)  # its own process group: voila and its kernel die with it
    try:
        wait_for_port(port, proc)
        with sync_api.sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS, headless=True)
            try:
                page = browser.new_page(viewport={'width': 1400, 'height': 1100})
                page.goto(f'http://127.0.0.1:{port}/', timeout=90_000)
                prompt = page.locator('.codelm-prompt textarea')
                prompt.wait_for(timeout=90_000)
                prompt.fill('def add(a, b):\n    return')
                page.wait_for_timeout(300)  # let the widget sync the prompt to the kernel
                page.locator('.codelm-generate').click()
                panels = page.locator('.codelm-panel')
                t = time.time()
                while time.time() - t < 90:
                    if panels.count() == 2 and all(panels.nth(i).locator('.codelm-sample').count() > 0 for i in range(2)): break
                    page.wait_for_timeout(500)
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
            finally: browser.close()
    finally:
        try: os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError: pass
        try: proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL); proc.wait()

def _alive(p) -> bool:
    "Whether the psutil process `p` still runs (a zombie waiting for init does not)."
    try: return p.is_running() and p.status() != 'zombie'
    except Exception: return False

def test_sigterm_stops_server_and_kernels(runs, tmp_path):
    "SIGTERM (what `timeout` sends) to `codelm explore` once a page has started a kernel: no process is left, the port is free, the app's temporary directory is gone."
    psutil = pytest.importorskip('psutil', reason='psutil (a Jupyter kernel dependency) finds the processes')
    port, tmp = free_port(), tmp_path/'tmp'; tmp.mkdir()
    exe = Path(sys.executable).parent/'codelm'
    cmd = [str(exe)] if exe.exists() else [sys.executable, '-c', 'import sys; from codelm.cli import main; sys.exit(main())']
    env = {**os.environ, 'CODELM_NO_BAR': '1', 'TMPDIR': str(tmp)}  # the app's temporary directory goes under tmp
    log = open(tmp_path/'explore.log', 'w+')  # a file, not a pipe: an orphaned server holding a pipe open would hang the read
    proc = subprocess.Popen(cmd + ['explore', '--runs', str(runs), '--port', str(port)], stdout=log, stderr=subprocess.STDOUT,
                            text=True, env=env, start_new_session=True)
    def page():
        try: urllib.request.urlopen(f'http://127.0.0.1:{port}/', timeout=120).read()
        except Exception: pass  # the server goes away under it
    try:
        try: wait_for_port(port, proc)
        except AttributeError: raise AssertionError(f'codelm explore exited with {proc.returncode}:\n' + (tmp_path/'explore.log').read_text()) from None
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
