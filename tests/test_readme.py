"README.md is generated from nbs/index.ipynb (issue 23, point 3): a README edited by hand, or an index changed without regenerating it, fails."
import subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

def test_readme_is_what_index_gives():
    r = subprocess.run([sys.executable, str(ROOT/'tools'/'readme.py'), '--check'], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr

def test_index_is_the_front_page():
    sys.path.insert(0, str(ROOT/'tools'))
    from readme import render
    text = render()
    for must in ('make run', 'make test', '## Results of the `cpu` preset', '| awd_qrnn-unigram |', 'codelm.rundir', 'Provenance: codelm'):
        assert must in text, must
