"""`make docs`: the documentation site, built offline from the notebooks, without Quarto (issue 23, point 2).

    .venv/bin/python tools/docs.py                  # writes _docs/ (open _docs/index.html)
    .venv/bin/python tools/docs.py --out DIR        # somewhere else

What it writes:
- one page per notebook (nbconvert's HTML exporter, outputs as committed), index.ipynb as the front page;
- `api/<module>.html` per module of codelm: every name in its `__all__`, with its signature, docstring, parameters
  (fastcore's docments: type, default, comment) and source line; a class's own public methods likewise (the content of
  nbdev's `show_doc`);
- `report.html`, the report of `make run` (reports/index.html) when it is there, else a page saying how to make it;
- `plotly.min.js` from the installed plotly, so the figures (kept in the notebooks as plotly JSON) draw with no network;
- `images/`, the notebooks' pictures: the explorer's screenshot (nbs/images/explorer.png, taken by tests/test_explore.py on
  the `cpu` registry) among them.

Where Quarto is installed, `nbdev-docs` builds nbdev's own site from the same notebooks (see the README)."""
import argparse, html, importlib, inspect, json, os, re, shutil, uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PLOTLY_MIME = 'application/vnd.plotly.v1+json'
CSS = """body{font-family:system-ui,sans-serif;max-width:72rem;margin:0 auto;padding:0 1rem;line-height:1.45}
nav.codelm{position:sticky;top:0;background:#fff;border-bottom:1px solid #ddd;padding:.5rem 0;z-index:10;font-size:.95rem}
nav.codelm a{margin-right:.8rem} pre,code{font-size:.9em} pre{background:#f6f8fa;padding:.6rem;overflow:auto}
table.params{border-collapse:collapse} table.params td,table.params th{border:1px solid #ddd;padding:.2rem .5rem;text-align:left}
.api h3{border-top:1px solid #ddd;padding-top:.8rem} .src{float:right;font-size:smaller;color:#666}"""

def _j(s): return ''.join(s) if isinstance(s, list) else s

def notebooks(nbs=ROOT/'nbs') -> list:
    "The notebooks of the site, index first, then in their order."
    return sorted(Path(nbs).glob('*.ipynb'), key=lambda p: (p.stem != 'index', p.name))

def modules() -> list:
    "The modules of codelm that export names (`__all__`), in the order of their notebooks."
    import codelm._modidx as mi
    return [n for n in sorted(mi.d['syms']) if getattr(importlib.import_module(n), '__all__', None)]

def _nav(pages, mods, up='') -> str:
    nb_links = ' '.join(f'<a href="{up}{p.stem}.html">{html.escape(p.stem)}</a>' for p in pages if p.stem != 'index')
    api = ' '.join(f'<a href="{up}api/{m}.html">{m.split(".", 1)[-1]}</a>' for m in mods)
    return (f'<nav class="codelm"><b><a href="{up}index.html">codelm</a></b> <a href="{up}report.html">report</a> '
            f'<a href="{up}10_explore.html">explorer</a> | notebooks: {nb_links} | API: {api}</nav>')

def _plotly_html(fig) -> str:
    i = f'fig-{uuid.uuid4().hex[:8]}'
    return (f'<div id="{i}" class="plotly-figure"></div><script>Plotly.newPlot("{i}", {json.dumps(fig.get("data", []))}, '
            f'{json.dumps(fig.get("layout", {}))}, {{"responsive": true}});</script>')

def notebook_page(nb, nav, exporter=None) -> str:
    "The HTML of notebook `nb` with its outputs; plotly figures draw from their JSON with the site's plotly.min.js."
    import nbformat
    from nbconvert import HTMLExporter
    node = nbformat.read(str(nb), as_version=4)
    for c in node.cells:
        for o in c.get('outputs', []):
            if PLOTLY_MIME in o.get('data', {}): o['data'] = {'text/html': _plotly_html(o['data'][PLOTLY_MIME])}
        c['outputs'] = [o for o in c.get('outputs', []) if o.get('output_type') not in ('display_data', 'execute_result') or o.get('data')]
    body, _ = (exporter or HTMLExporter(template_name='lab')).from_notebook_node(node)
    head = f'<script src="plotly.min.js"></script><style>{CSS}</style>'
    body = body.replace('</head>', head + '</head>', 1)
    return re.sub(r'(<body[^>]*>)', lambda m: m.group(1) + nav, body, count=1)

def _params(obj) -> str:
    from fastcore.docments import docments
    try: d = docments(obj, full=True)
    except Exception: return ''
    rows = []
    if inspect.isclass(obj) and '__init__' not in vars(obj) and not hasattr(obj, '__dataclass_fields__'): return ''
    for k, v in d.items():
        if k in ('self', 'cls'): continue
        if k == 'return' and v.get('docment') is None: continue
        ann = v.get('anno'); dflt = v.get('default')
        ann = '' if ann is inspect._empty else getattr(ann, '__name__', str(ann))
        dflt = '' if dflt is inspect._empty else repr(dflt)
        rows.append(f'<tr><td><code>{html.escape(k)}</code></td><td>{html.escape(ann)}</td><td>{html.escape(dflt)}</td>'
                    f'<td>{html.escape(v.get("docment") or "")}</td></tr>')
    return ('<table class="params"><tr><th>parameter</th><th>type</th><th>default</th><th>comment</th></tr>' + ''.join(rows) + '</table>') if rows else ''

def _entry(name, obj, mod, level=3) -> str:
    obj = inspect.unwrap(obj) if callable(obj) and not inspect.isclass(obj) else obj
    try: sig = str(inspect.signature(obj))
    except (TypeError, ValueError): sig = ''
    kind = 'class' if inspect.isclass(obj) else 'def' if callable(obj) else ''
    try: src = f'{inspect.getsourcefile(obj).rsplit("/", 2)[-2]}/{Path(inspect.getsourcefile(obj)).name}, line {inspect.getsourcelines(obj)[1]}'
    except (TypeError, OSError): src = ''
    doc = inspect.getdoc(obj) if kind else None
    value = '' if kind else f'<pre>{html.escape(repr(obj)[:400])}</pre>'
    out = [f'<div class="api" id="{html.escape(name)}"><h{level}>{html.escape(name)} <span class="src">{html.escape(src)}</span></h{level}>',
           f'<pre>{kind} {html.escape(name)}{html.escape(sig)}</pre>' if kind else '', value,
           f'<p><em>{html.escape(doc)}</em></p>' if doc else '', _params(obj) if kind else '']
    if inspect.isclass(obj):
        for m, f in vars(obj).items():
            if m.startswith('_') or not callable(f) or not getattr(f, '__doc__', None): continue
            out.append(_entry(f'{name}.{m}', f, mod, level=4))
    return '\n'.join(out) + '</div>'

def api_page(mod, nav) -> str:
    "The API reference of module `mod`: every exported name with its signature, docstring and parameters."
    m = importlib.import_module(mod)
    first = (inspect.getdoc(m) or '').split('\n\n')[0]
    body = '\n'.join(_entry(n, getattr(m, n), mod) for n in m.__all__ if hasattr(m, n))
    return (f'<!doctype html><html><head><meta charset="utf-8"><title>{mod}</title><style>{CSS}</style></head><body>{nav}'
            f'<h1>{mod}</h1><p>{html.escape(first)}</p><p>{len(m.__all__)} exported names.</p>{body}</body></html>')

def _workers(n:int) -> int:
    "How many processes render `n` pages: one per core this process may use."
    cores = len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else os.cpu_count() or 1
    return max(1, min(n, cores))

def _pages(pages, nav, out, exporter=None):
    "Render the notebooks `pages` into `out`, one HTML file each."
    from nbconvert import HTMLExporter
    exporter = exporter or HTMLExporter(template_name='lab')
    for nb in pages: (Path(out)/f'{nb.stem}.html').write_text(notebook_page(nb, nav, exporter))

def build(out=ROOT/'_docs', nbs=ROOT/'nbs', report=ROOT/'reports'/'index.html') -> dict:
    "Write the site to `out`; returns what it wrote."
    out = Path(out); shutil.rmtree(out, ignore_errors=True); (out/'api').mkdir(parents=True)
    pages, mods = notebooks(nbs), modules()
    import plotly
    shutil.copy(Path(plotly.__file__).parent/'package_data'/'plotly.min.js', out/'plotly.min.js')
    from nbconvert import HTMLExporter
    exporter, nav, api_nav = HTMLExporter(template_name='lab'), _nav(pages, mods), _nav(pages, mods, '../')  # built once for every page
    groups = [pages[i::_workers(len(pages))] for i in range(_workers(len(pages)))]  # nbconvert is single-threaded: a process per core
    if len(groups) > 1:
        import concurrent.futures, multiprocessing as mp
        ctx = mp.get_context('fork' if 'fork' in mp.get_all_start_methods() else 'spawn')
        with concurrent.futures.ProcessPoolExecutor(len(groups), mp_context=ctx) as ex: list(ex.map(_pages, groups, [nav] * len(groups), [out] * len(groups)))
    else: _pages(pages, nav, out, exporter)
    for m in mods: (out/'api'/f'{m}.html').write_text(api_page(m, api_nav))
    if Path(report).exists(): shutil.copy(report, out/'report.html')
    else: (out/'report.html').write_text(f'<!doctype html><html><head><meta charset="utf-8"><style>{CSS}</style></head><body>{nav}'
                                         '<h1>The report</h1><p>Not built here yet: <code>make run</code> writes it (reports/index.html), '
                                         'and <code>make docs</code> copies it to this page.</p></body></html>')
    shot = Path(nbs)/'images'/'explorer.png'
    if (Path(nbs)/'images').exists(): shutil.copytree(Path(nbs)/'images', out/'images')  # the notebooks' pictures, at their relative paths
    return dict(out=str(out), notebooks=[p.stem for p in pages], modules=mods, report=Path(report).exists(), explorer=shot.exists())

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--out', default=str(ROOT/'_docs'))
    a = ap.parse_args()
    r = build(a.out)
    print(f"docs: {len(r['notebooks'])} notebook pages, {len(r['modules'])} API pages, report {'copied' if r['report'] else 'not built yet (make run)'}, "
          f"explorer screenshot {'copied' if r['explorer'] else 'missing'}: open {Path(r['out'])/'index.html'}")
