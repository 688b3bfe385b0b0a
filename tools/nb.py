#!/usr/bin/env python3
"""Round-trip a notebook through a plain-text cell listing, for editing notebooks in a text editor.

    python tools/nb.py to-txt nbs/00_data.ipynb > /tmp/00_data.txt   # edit the text
    python tools/nb.py to-nb /tmp/00_data.txt nbs/00_data.ipynb       # write the notebook back

A cell starts with a line `#%% code` or `#%% md`; its source follows verbatim. The notebook stays the
source of truth: the text form is a scratch file, never committed. Outputs of unchanged code cells are kept.
"""
import json, sys, uuid
from pathlib import Path

MARK = '#%% '

def to_txt(nb_path):
    nb = json.loads(Path(nb_path).read_text())
    out = []
    for c in nb['cells']:
        kind = 'md' if c['cell_type'] == 'markdown' else c['cell_type']
        out.append(f"{MARK}{kind}\n{''.join(c['source']).rstrip()}\n")
    return '\n'.join(out)

def parse_txt(txt):
    cells, cur = [], None
    for line in txt.splitlines(keepends=True):
        if line.startswith(MARK) and line[len(MARK):].strip() in ('code', 'md', 'raw'):
            cur = [line[len(MARK):].strip(), []]; cells.append(cur)
        elif cur is not None: cur[1].append(line)
    return [(k, ''.join(ls).strip('\n')) for k, ls in cells]

def to_nb(txt_path, nb_path):
    old = {}
    p = Path(nb_path)
    if p.exists():
        for c in json.loads(p.read_text())['cells']:
            old[''.join(c['source'])] = (c.get('id'), c.get('outputs', []))
    cells, used = [], set()
    for kind, src in parse_txt(Path(txt_path).read_text()):
        lines = src.splitlines(keepends=True)
        cid, outs = old.get(src, (None, []))
        if not cid or cid in used: cid = uuid.uuid4().hex[:8]  # ids are stable across edits of other cells
        used.add(cid)
        if kind == 'md': cells.append(dict(cell_type='markdown', id=cid, metadata={}, source=lines))
        elif kind == 'raw': cells.append(dict(cell_type='raw', id=cid, metadata={}, source=lines))
        else: cells.append(dict(cell_type='code', id=cid, execution_count=None, metadata={}, outputs=outs or [], source=lines))
    nb = dict(cells=cells, metadata=dict(kernelspec=dict(display_name='python3', language='python', name='python3')),
              nbformat=4, nbformat_minor=5)
    p.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + '\n')

if __name__ == '__main__':
    cmd, *args = sys.argv[1:]
    if cmd == 'to-txt': sys.stdout.write(to_txt(args[0]))
    elif cmd == 'to-nb': to_nb(*args)
    else: sys.exit(f'unknown command {cmd!r}: use to-txt or to-nb')
