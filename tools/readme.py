"""README.md is generated from nbs/index.ipynb (`readme_nb` in pyproject.toml), without Quarto (issue 23, point 3).

    .venv/bin/python tools/readme.py          # write README.md
    .venv/bin/python tools/readme.py --check  # exit 1 if README.md is not what index.ipynb gives (tests/test_readme.py)

Markdown cells are copied as they are; a code cell without `#| hide` becomes a ```python block followed by its outputs
(stream text, or a result's text/markdown, else text/plain) in a plain block. Figures are not rendered into the README."""
import json, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

def _j(s): return ''.join(s) if isinstance(s, list) else s

def _output(o) -> str:
    if o.get('output_type') == 'stream': return _j(o.get('text', ''))
    d = o.get('data', {})
    if 'text/markdown' in d: return _j(d['text/markdown'])
    return _j(d.get('text/plain', '')) if not any(k.startswith('application/vnd.') for k in d) else ''

def render(nb=ROOT/'nbs'/'index.ipynb') -> str:
    "The README that `nb` gives."
    parts = []
    for c in json.loads(Path(nb).read_text())['cells']:
        src = _j(c['source']).rstrip()
        if c['cell_type'] == 'markdown': parts.append(src)
        elif c['cell_type'] == 'code' and not src.startswith('#| hide') and src:
            code = '\n'.join(l for l in src.splitlines() if not l.startswith('#| '))
            parts.append(f'```python\n{code}\n```')
            out = ''.join(_output(o) for o in c.get('outputs', [])).rstrip()
            if out: parts.append(f'```\n{out}\n```')
    return '\n\n'.join(parts) + '\n'

if __name__ == '__main__':
    want = render()
    if '--check' in sys.argv:
        ok = (ROOT/'README.md').read_text() == want
        if not ok: print('README.md is not what nbs/index.ipynb gives: edit index.ipynb and run tools/readme.py', file=sys.stderr)
        sys.exit(0 if ok else 1)
    (ROOT/'README.md').write_text(want)
