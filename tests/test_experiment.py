"`codelm run --preset smoke`: the whole grid end to end, into a temporary registry, as `make run` does with the cpu preset."
import json, re
from conftest import codelm
from codelm.experiment import grid

def test_smoke_grid_end_to_end(smoke_registry):
    "The session's smoke registry (conftest.py) was made by `codelm run --preset smoke` in a process of its own."
    runs = smoke_registry/'runs'/'smoke'
    for name, arch, _ in grid():
        cfg = json.loads((runs/name/'codelm.json').read_text())
        assert cfg['status'] == 'finished' and cfg['arch'] == arch and (runs/name/'model.safetensors').exists()
        assert (runs/name/'history.csv').read_text().count('\n') >= 3
        assert (runs/name/'metrics.json').exists() and (runs/name/'samples.json').exists(), f'{name}: not evaluated'
    page = (smoke_registry/'reports'/'index.html').read_text()
    assert all(n in page for n, _, _ in grid()) and 'Figure 6' in page
    assert not re.search(r'<script[^>]+src=["\']https?://', page)
    # line completion under CodeXGLUE's names (em, es) in metrics.json and the results table; the old names are gone
    lc = json.loads((runs/'gpt2'/'metrics.json').read_text())['line_completion']
    assert 0 <= lc['em'] <= 100 and 0 <= lc['es'] <= 100 and not {'exact_match', 'edit_sim'} & set(lc)
    head = (smoke_registry/'reports'/'results.md').read_text().splitlines()[0]
    assert '| line EM % | line ES % |' in head and 'edit sim' not in head

def test_finished_runs_are_skipped(smoke_registry):
    "Run again on the same registry, nothing is trained or evaluated anew."
    from codelm.data import sample_corpus
    runs = smoke_registry/'runs'/'smoke'
    before = {p: p.stat().st_mtime_ns for p in runs.rglob('*.safetensors')}
    r = codelm('run', '--preset', 'smoke', '--corpus', sample_corpus(), '--runs', smoke_registry/'runs', '--only', 'awd_lstm-char,gpt2',
               '--report', smoke_registry/'reports2')
    assert r.returncode == 0, r.stderr
    assert {p: p.stat().st_mtime_ns for p in runs.rglob('*.safetensors')} == before
