"`codelm run --preset smoke`: the whole grid end to end, into a temporary registry, as `make run` does with the cpu preset."
import json, os, re, subprocess, sys
from pathlib import Path
from codelm.data import sample_corpus
from codelm.experiment import GRID

def test_smoke_grid_end_to_end(tmp_path):
    env = dict(os.environ, CODELM_NO_BAR='1')
    r = subprocess.run([str(Path(sys.executable).parent/'codelm'), 'run', '--preset', 'smoke', '--corpus', str(sample_corpus()),
                        '--runs', str(tmp_path/'runs'), '--report', str(tmp_path/'reports')], capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    runs = tmp_path/'runs'/'smoke'
    for name, arch, _ in GRID:
        cfg = json.loads((runs/name/'config.json').read_text())
        assert cfg['status'] == 'finished' and cfg['arch'] == arch and (runs/name/'model.safetensors').exists()
        assert (runs/name/'history.csv').read_text().count('\n') >= 3
        assert (runs/name/'metrics.json').exists() and (runs/name/'samples.json').exists(), f'{name}: not evaluated'
    page = (tmp_path/'reports'/'index.html').read_text()
    assert all(n in page for n, _, _ in GRID) and 'Figure 6' in page
    assert not re.search(r'<script[^>]+src=["\']https?://', page)
