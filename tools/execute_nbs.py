"""Execute the notebooks in place and keep their outputs (issue 23): `nbdev-test --save`, then `nbdev-clean`.

    .venv/bin/python tools/execute_nbs.py              # every notebook
    .venv/bin/python tools/execute_nbs.py --path-re 09  # some (nbdev-test's own filters)

Run it after `make run`, so that nbs/09_experiment and nbs/10_explore show the `cpu` registry in runs/cpu. Cells flagged
slow, cuda or net are skipped, as in `make test`. Plotly figures are kept as their JSON plus a small HTML stub that loads
plotly.js from its CDN (renderer `plotly_mimetype+notebook_connected`), not a 4 MB copy of plotly.js each."""
import os, subprocess, sys
from pathlib import Path

root, bin = Path(__file__).resolve().parent.parent, Path(sys.executable).parent
env = dict(os.environ, CODELM_NO_BAR='1', PLOTLY_RENDERER='plotly_mimetype+notebook_connected')
r = subprocess.run([str(bin/'nbdev-test'), '--save', '--n-workers', '1', *sys.argv[1:]], cwd=root, env=env)
subprocess.run([str(bin/'nbdev-clean')], cwd=root, check=True)
sys.exit(r.returncode)
