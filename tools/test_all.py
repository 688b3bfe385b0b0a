#!/usr/bin/env python3
"""`make test`: notebooks and library in sync, notebook tests, pytest; ends on `N passed, N failed`.

1. nbdev-clean and nbdev-export must not change the working tree (else the notebooks and the library disagree,
   or a notebook was committed unclean): that check counts as one test.
2. nbdev-test runs every notebook, skipping the cells flagged in tst_flags (slow cuda net): one test per notebook.
3. pytest tests/: one test per pytest test, a test file per worker where pytest-xdist is installed (CODELM_TEST_WORKERS).
"""
import hashlib, os, re, subprocess, sys, tempfile, time
import xml.etree.ElementTree as ET
from pathlib import Path

root = Path(__file__).resolve().parent.parent
os.chdir(root)
bin_ = Path(sys.executable).parent
passed = failed = skipped = 0

def tree_state():
    st = subprocess.run(['git', 'status', '--porcelain', '--untracked-files=all'], capture_output=True, text=True).stdout
    diff = subprocess.run(['git', 'diff'], capture_output=True, text=True).stdout
    untracked = [l[3:] for l in st.splitlines() if l.startswith('??')]
    h = hashlib.sha256(diff.encode())
    for f in untracked:
        p = root/f
        if p.is_file(): h.update(f.encode() + p.read_bytes())
    return st, h.hexdigest()

def step(title): print(f'\n=== {title}', flush=True)

step('nbdev-clean + nbdev-export leave the tree unchanged')
before = tree_state()
for cmd in ('nbdev-clean', 'nbdev-export'):
    r = subprocess.run([str(bin_/cmd)], capture_output=True, text=True)
    if r.returncode: print(r.stdout, r.stderr)
after = tree_state()
if before == after: print('in sync'); passed += 1
else:
    failed += 1
    print('FAILED: nbdev-clean / nbdev-export changed the tree; run them and commit the result:')
    print(subprocess.run(['git', 'status', '--short'], capture_output=True, text=True).stdout)

step('nbdev-test (tst_flags skipped)')
nbs = sorted(p for p in (root/'nbs').glob('*.ipynb') if not p.name.startswith('_'))
t = time.time()
r = subprocess.run([str(bin_/'nbdev-test'), '--do-print', '--timing'], capture_output=True, text=True)
sys.stdout.write(r.stdout); sys.stderr.write(r.stderr)
m = re.search(r'Failed On The Following Notebooks:\n=+\n(.*)', r.stderr, re.S)
bad = {l.strip() for l in m.group(1).splitlines() if l.strip()} if m else set()
if r.returncode and not bad: bad = {'nbdev-test'}  # crashed before naming a notebook
nb_failed = len(bad)
print(f'notebooks: {len(nbs) - nb_failed} passed, {nb_failed} failed ({time.time() - t:.0f}s)')
passed += len(nbs) - nb_failed; failed += nb_failed

def pytest_workers() -> tuple[list[str], dict]:
    "pytest-xdist's flags and the environment for them: a test file per worker (its module fixtures built once), the cores shared out."
    cpus = os.cpu_count() or 1
    n = int(os.environ.get('CODELM_TEST_WORKERS', min(cpus, 4)))
    try: import xdist  # noqa: F401
    except ImportError: n = 1
    if n <= 1: return [], {}
    # many tests wait on a child process or on I/O, so one worker leaves a core idle half the time (user+sys 1.2 cores of 2);
    # each worker's torch gets its share of the cores, else 2 workers x 2 threads fight over 2 cores
    return ['-n', str(n), '--dist', 'loadfile'], {'OMP_NUM_THREADS': os.environ.get('OMP_NUM_THREADS', str(max(1, cpus // n)))}

step('pytest tests/')
flags, env = pytest_workers()
print(f'{flags[1]} workers, OMP_NUM_THREADS={env["OMP_NUM_THREADS"]} each' if flags else 'one process (pytest-xdist missing)', flush=True)
with tempfile.TemporaryDirectory() as d:
    xml = Path(d)/'junit.xml'
    r = subprocess.run([sys.executable, '-m', 'pytest', 'tests', '-q', '-rs', '--durations=12', f'--junitxml={xml}', *flags],
                       env={**os.environ, **env})
    if xml.exists():
        s = ET.parse(xml).getroot()
        s = s if s.tag == 'testsuite' else s.find('testsuite')
        n, f, e, sk = (int(s.get(k, 0)) for k in ('tests', 'failures', 'errors', 'skipped'))
        passed += n - f - e - sk; failed += f + e; skipped += sk
    elif r.returncode not in (0, 5): failed += 1

print(f'\n{passed} passed, {failed} failed' + (f', {skipped} skipped' if skipped else ''))
sys.exit(1 if failed else 0)
