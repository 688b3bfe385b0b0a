"`make docs` builds the documentation site offline (issue 23, point 2): a page per notebook, an API page per module, figures."
import importlib, re, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT/'tools'))
import docs

def test_docs_site(tmp_path):
    r = docs.build(tmp_path/'site')
    site = Path(r['out'])
    nbs = sorted(p.stem for p in (ROOT/'nbs').glob('*.ipynb'))
    assert sorted(r['notebooks']) == nbs and all((site/f'{n}.html').exists() for n in nbs)
    mods = sorted(p.stem for p in (ROOT/'codelm').glob('*.py') if not p.stem.startswith('_'))
    assert sorted(m.split('.', 1)[1] for m in r['modules']) == mods
    for m in r['modules']:  # every exported name of every module is on its page, with its docstring
        page = (site/'api'/f'{m}.html').read_text()
        mod = importlib.import_module(m)
        for n in mod.__all__: assert f'id="{n}"' in page, (m, n)
        f = next(getattr(mod, n) for n in mod.__all__ if callable(getattr(mod, n)) and getattr(getattr(mod, n), '__doc__', None))
        assert f.__doc__.split('\n')[0][:40] in page.replace('&#x27;', "'").replace('&quot;', '"').replace('&lt;', '<').replace('&gt;', '>').replace('&amp;', '&'), m
    figures = sum(len(re.findall(r'Plotly\.newPlot\(', (site/f'{n}.html').read_text())) for n in nbs)
    assert figures >= 1 and (site/'plotly.min.js').stat().st_size > 1e6  # the figures draw offline
    front = (site/'index.html').read_text()
    assert 'href="report.html"' in front and all(f'api/{m}.html' in front for m in r['modules'])
    assert (site/'report.html').exists()
