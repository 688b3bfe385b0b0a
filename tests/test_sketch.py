"""CERT's sketcher (issue 35, point 4): the round trip over every file of the standard library, targeted examples, and
`codelm sketch` as a user runs it (in this process and as the console script). The library detector (point 5) is
codelm.data's: tests/test_corpus.py."""
import ast, io, json, os, subprocess, sys, time
from pathlib import Path
import pytest
from conftest import codelm, CODELM
from codelm.data import stdlib_dir
from codelm.sketch import PLACEHOLDERS, SketchError, sketch, unsketch, read_python

NUMBER_KINDS = ('number', 'float', 'floatexponant', 'complex')

def _numbers(tree) -> list:
    "The values of the number literals of `tree` outside f-strings (an f-string is sketched whole)."
    out = []
    def walk(n):
        if isinstance(n, ast.JoinedStr): return
        if isinstance(n, ast.Constant) and type(n.value) in (int, float, complex): out.append(n.value)
        for c in ast.iter_child_nodes(n): walk(c)
    walk(tree)
    return out

def _check(code:str, s) -> list:
    "What is wrong with the sketch `s` of `code`, checked against the syntax tree: [] when nothing."
    tree, got = ast.parse(code), list(zip(s.kinds, s.originals))
    wrong = []
    defs = sorted(n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)))
    if sorted(o for k, o in got if k == 'func') != defs: wrong.append('function names')
    if sorted(o for k, o in got if k == 'cls') != sorted(n.name for n in ast.walk(tree) if isinstance(n, ast.ClassDef)): wrong.append('class names')
    if sorted(map(repr, (ast.literal_eval(o) for k, o in got if k in NUMBER_KINDS))) != sorted(map(repr, _numbers(tree))): wrong.append('numbers')
    for (a, b), (k, o) in zip(s.spans, got):
        if s.text[a:b] != PLACEHOLDERS[k]: wrong.append(f'placeholder {k} at {a}'); break
        if k.endswith('string') and not k.startswith('inter') and not isinstance(ast.literal_eval(o), bytes if k == 'binarystring' else str):
            wrong.append(f'{k}: {o[:40]}'); break
        if k.startswith('inter') and not isinstance(ast.parse(o, mode='eval').body, ast.JoinedStr): wrong.append(f'{k}: {o[:40]}'); break
    return wrong

@pytest.mark.filterwarnings('ignore::DeprecationWarning', 'ignore::SyntaxWarning')  # the test's own ast.parse of files with invalid escapes
def test_round_trip_every_stdlib_file():
    "The .py files of this interpreter's standard library (test suites included): unsketch(sketch(code)) is the file byte for byte, and each replaced name and number is one the syntax tree has. `make test` takes every 8th file (about 220, 4 MB, a few seconds); CODELM_SKETCH=all takes all of them (about 1,800 files, 31 MB, 45 s on 2 cores)."
    t0, files, nbytes, nph, skipped, bad = time.time(), 0, 0, 0, [], []
    paths = [p for p in sorted(stdlib_dir().rglob('*.py')) if 'site-packages' not in p.parts and p.is_file()]
    every = os.environ.get('CODELM_SKETCH') == 'all'
    paths = paths if every else paths[::8]
    for p in paths:
        try: code, enc = read_python(p); s = sketch(code, where=str(p))
        except SketchError as e: skipped.append(str(e)); continue
        raw = p.read_bytes()
        if unsketch(s).encode(enc) != raw or (wrong := _check(code, s)): bad.append((str(p), 'bytes' if unsketch(s).encode(enc) != raw else wrong))
        files += 1; nbytes += len(raw); nph += len(s.spans)
    print(f'\nround trip: {files} files, {nbytes:,} bytes, {nph:,} placeholders, {files - len(bad)} byte-equal and checked, '
          f'{len(skipped)} skipped (do not parse or decode), {time.time() - t0:.1f} s')
    assert not bad, bad[:5]
    assert (files > 1000 and nbytes > 10_000_000) if every else (files > 150 and nbytes > 1_000_000), (files, nbytes)
    assert len(skipped) < 20 and all(any(w in e for w in ('does not parse', 'not utf-8', 'encoding')) for e in skipped), skipped  # lib2to3's and the tests' broken files

def test_references_round_trip_on_packages():
    "With --references too, a few packages come back byte for byte."
    from codelm.sketch import round_trip
    r = round_trip([p for pkg in ('json', 'asyncio', 'email') for p in sorted((stdlib_dir()/pkg).rglob('*.py'))], references=True)
    assert r['files'] > 50 and r['equal'] == r['files'] and not r['mismatched'] and not r['skipped'], r

@pytest.mark.parametrize('code, want', [
    ('x = -1 + 2.5 - 1e3 + 1j + 0b101\n', 'x = -number + float - floatexponant + complex + number\n'),
    ('f(a, key="v", *args, n=0, **kw)\n', 'f(a, key=string, *args, n=number, **kw)\n'),
    ('s = f"{x:{width}}{{}}" + F"{f\'{y}\'!r}"\n', 's = interstring + interstring\n'),
    ('s = ("one"\n     \'two\')\n', 's = (string\n     string)\n'),
    ('p = b"\\x00" + rb"\\d" + BR"x"\n', 'p = binarystring + binarystring + binarystring\n'),
    ('@dataclass(frozen=True)\nclass P:\n    x: int = 0\n', '@dataclass(frozen=True)\nclass AnClass:\n    x: int = number\n'),
    ('async def main():\n    await run(lambda: 3)\n', 'async def func():\n    await run(lambda: number)\n'),
    ('def outer():\n    def inner(): pass\n    class Local: pass\n', 'def func():\n    def func(): pass\n    class AnClass: pass\n'),
    ('match c:\n    case {"k": 1}: pass\n    case Point(x=0): pass\n', 'match c:\n    case {string: number}: pass\n    case Point(x=number): pass\n'),
    ('def f(a: "List[int]") -> "str":\n    """Doc, kept."""\n', 'def func(a: string) -> string:\n    """Doc, kept."""\n'),
    ('if (n := len(x)) > 10: print(n, sep="")\n', 'if (n := len(x)) > number: print(n, sep=string)\n'),
    ('x = 1 # 2 "three"\n\n\n    \ny = 4', 'x = number # 2 "three"\n\n\n    \ny = number'),
])
def test_targeted_examples(code, want):
    s = sketch(code)
    assert s.text == want
    assert unsketch(s) == code and not _check(code, s)

def test_only_names_the_code_defines():
    code = 'import pandas as pd\ndef load(p):\n    return pd.read_csv(p)\nprint(load("a.csv"), len([]))\n'
    assert sketch(code).text == 'import pandas as pd\ndef func(p):\n    return pd.read_csv(p)\nprint(load(string), len([]))\n'
    assert sketch(code, references=True).text == 'import pandas as pd\ndef func(p):\n    return pd.read_csv(p)\nprint(func(string), len([]))\n'

def test_unsketch_with_other_originals():
    s = sketch('def f(x):\n    return x * 2\n')
    assert unsketch(s, ['double', '2']) == 'def double(x):\n    return x * 2\n'
    with pytest.raises(SketchError, match='1 originals for the 2 placeholders'): unsketch(s, ['g'])

def test_cli_sketch_file_stdin_and_json(tmp_path, monkeypatch):
    (tmp_path/'m.py').write_text('import numpy as np\n\ndef scale(a, k=2.0):\n    "Scale."\n    return np.asarray(a) * k  # note\n')
    r = codelm('sketch', tmp_path/'m.py')
    assert r.returncode == 0 and r.stdout == 'import numpy as np\n\ndef func(a, k=float):\n    "Scale."\n    return np.asarray(a) * k  # note\n'
    j = json.loads(codelm('sketch', '--json', tmp_path/'m.py').stdout)
    assert [(p['kind'], p['original']) for p in j['placeholders']] == [('func', 'scale'), ('float', '2.0')]
    monkeypatch.setattr(sys, 'stdin', io.TextIOWrapper(io.BytesIO(b'class A: pass\nx = A()\n')))
    assert codelm('sketch', '--references', '-').stdout == 'class AnClass: pass\nx = AnClass()\n'

@pytest.mark.parametrize('content, want', [
    (b'x = 1\ndef f(:\n    pass\n', 'bad.py:2: does not parse (SyntaxError: '),
    (b'if x:\n    y\n      z\n', 'bad.py:3: does not parse (IndentationError: unexpected indent)'),
    (b'x = 1\ny = "\xff"\n', 'bad.py:2: not utf-8 text (byte 0xff)'),
    (b'x = 1\n\x00\n', 'bad.py:2: does not parse ('),
])
def test_cli_bad_file_is_one_line(tmp_path, content, want):
    (tmp_path/'bad.py').write_bytes(content)
    r = codelm('sketch', tmp_path/'bad.py')
    assert r.returncode == 2 and r.stdout == '' and len(r.stderr.splitlines()) == 1, r
    assert r.stderr.startswith(f'codelm sketch: error: {tmp_path}/') and want in r.stderr, r.stderr

def test_cli_missing_file_and_directory(tmp_path):
    for p, want in ((tmp_path/'none.py', 'none.py: missing'), (tmp_path, 'not a regular file (expected a Python source file)')):
        r = codelm('sketch', p)
        assert r.returncode == 2 and len(r.stderr.splitlines()) == 1 and want in r.stderr, r.stderr

def test_console_script_reads_stdin():
    "The console script in a new process: `codelm sketch -` reads standard input; code that does not parse is one line, exit 2, no traceback."
    r = subprocess.run([CODELM, 'sketch', '-'], input='def area(r):\n    return 3.14 * r ** 2\n', capture_output=True, text=True, timeout=300)
    assert r.returncode == 0 and r.stdout == 'def func(r):\n    return float * r ** number\n', r.stderr
    r = subprocess.run([CODELM, 'sketch', '-'], input='x = [1,\n', capture_output=True, text=True, timeout=300)
    assert r.returncode == 2 and 'Traceback' not in r.stderr and r.stderr.startswith('codelm sketch: error: <stdin>:1: does not parse ('), r.stderr
    assert len(r.stderr.splitlines()) == 1
