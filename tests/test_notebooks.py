"""The notebooks are committed executed (issue 23, points 1 and 4): each holds outputs, says where they came from in a
provenance line, holds no error output, and nbs/ stays small (plotly figures carry their data, not a copy of plotly.js)."""
import json
from pathlib import Path
import pytest

NBS = sorted((Path(__file__).parent.parent/'nbs').glob('*.ipynb'))

def _texts(out) -> str:
    "All the text of one output: a stream, or every text-like MIME type of a result or display."
    if out.get('output_type') == 'stream': return ''.join(out.get('text', ''))
    return ''.join(''.join(v) if isinstance(v, list) else str(v) for k, v in out.get('data', {}).items() if k.startswith('text/'))

@pytest.mark.parametrize('nb', NBS, ids=[p.name for p in NBS])
def test_notebook_is_executed_with_provenance_and_no_errors(nb):
    cells = json.loads(nb.read_text())['cells']
    outs = [o for c in cells if c['cell_type'] == 'code' for o in c.get('outputs', [])]
    assert outs, f'{nb.name}: no outputs (execute it: tools/execute_nbs.py)'
    errors = [o for o in outs if o.get('output_type') == 'error']
    assert not errors, f"{nb.name}: an output cell holds an error: {errors[0].get('ename')}: {errors[0].get('evalue')}"
    assert any('Provenance: codelm ' in _texts(o) for o in outs), f'{nb.name}: outputs without a provenance line (codelm.data.provenance)'
    big = [len(json.dumps(o)) for o in outs if len(json.dumps(o)) > 2_000_000]
    assert not big, f'{nb.name}: an output of {max(big):,} bytes (a plotly figure with plotly.js inlined?)'
    assert not any('plotly.js v' in _texts(o)[:2000] for o in outs), f'{nb.name}: a figure carries its own copy of plotly.js'

def test_notebooks_stay_small():
    total = sum(p.stat().st_size for p in (Path(__file__).parent.parent/'nbs').rglob('*') if p.is_file())
    assert total < 10_000_000, f'nbs/ holds {total / 1e6:.1f} MB (at most 10 MB)'
