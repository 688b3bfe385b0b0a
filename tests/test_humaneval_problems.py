"""`codelm humaneval --problems FILE` (issue 21): any problem set in HumanEval's format, validated; and the errors of
sample files (issue 24): binary, truncated gzip, a directory, unknown task_ids and samples left out by --limit.
Issue 35: PandasEval, NumpyEval and MBPP-converted files in their published shapes, the gate (--check-solutions) and
the 95% intervals of pass@k."""
import gzip, json, re, subprocess, sys, time
from pathlib import Path
import pytest
from conftest import codelm
import codelm.humaneval as he
from codelm.sandbox import SandboxConfig, run_sandboxed

TOY = [dict(task_id='Toy/0', entry_point='add', prompt='def add(a, b):\n    """The sum of a and b."""\n',
            canonical_solution='    return a + b\n',
            test='def check(candidate):\n    assert candidate(1, 2) == 3\n    assert candidate(-1, 1) == 0\n'),
       dict(task_id='Toy/1', entry_point='rev', prompt='def rev(s):\n    """`s` backwards."""\n',
            canonical_solution='    return s[::-1]\n',
            test='def check(candidate):\n    assert candidate("abc") == "cba"\n    assert candidate("") == ""\n')]
ARGS = ('-k', '1', '--workers', '2', '--timeout', '10')

# Issue 35: problems in exactly the published shapes (short stand-ins for the benchmarks' text, which is not downloaded here).
# CERT's: canonical_solution a list of alternatives, entry_point "none" -> `def check():` and the program ends with `check()`,
# a METADATA dict first in every test; PandasEval/29's shape: entry_point "none" but `def check(candidate)`.
META = "\n\nMETADATA = {\n    'author': 'msra',\n    'dataset': 'test',\n    'type': 'x'\n}\n\n\n"
PE = [dict(task_id='PandasEval/0', prompt='import pandas as pd\n\ndef get_row_count(df):\n    """\n    Return the number of rows in the dataframe\n    """\n',
           entry_point='get_row_count', canonical_solution=['    return len(df)\n', '    return df.shape[0]\n'],
           test=META + 'def check(candidate):\n    assert candidate(pd.DataFrame({"a": [1, 2], "b": [3, 4]})) == 2\n    assert candidate(pd.DataFrame()) == 0\n'),
      dict(task_id='PandasEval/1', prompt="import pandas as pd\n\ndf = pd.DataFrame({'a': [1, 2, 3], 'b': [4, 5, 6]})\n# the sum of column 'a'\nresult = ",
           entry_point='none', canonical_solution=["df['a'].sum()"], test=META + 'def check():\n    assert result == 6\n'),
      dict(task_id='PandasEval/29', prompt="import pandas as pd\n\ndf = pd.DataFrame({'a': [3, 1, 2]})\n# sort df by column 'a'\nresult = ",
           entry_point='none', canonical_solution=["df.sort_values('a')"], test=META + "def check(candidate):\n    assert list(result['a']) == [1, 2, 3]\n")]
NE0 = dict(task_id='NumpyEval/0', prompt='import numpy as np\n\na = np.arange(6).reshape(2, 3)\n# the transpose of a\nresult = ',
           entry_point='none', canonical_solution=['a.T', 'np.transpose(a)', 'a.transpose()'],
           test=META + 'def check():\n    assert (result == np.array([[0, 3], [1, 4], [2, 5]])).all()\n')
MBPP = dict(task_id='MBPP/3', text='Write a python function to identify non-prime numbers.', test_list=['assert is_not_prime(2) == False'],
            prompt='def is_not_prime(n):\n    """Write a python function to identify non-prime numbers.\n    >>> is_not_prime(2)\n    False\n    """\n',
            entry_point='is_not_prime', canonical_solution='    return n < 2 or any(n % i == 0 for i in range(2, int(n ** 0.5) + 1))\n',
            test='METADATA = {}\n\ndef check(candidate):\n    assert candidate(2) == False\n    assert candidate(10) == True\n\ndef test_check():\n    check(is_not_prime)\n\ntest_check()\n')
SHAPES = PE + [NE0, MBPP]

def jsonl(path, recs, gz=False):
    data = ''.join(json.dumps(r) + '\n' for r in recs).encode()
    Path(path).write_bytes(gzip.compress(data) if gz else data)
    return path

def canonical(probs): return [dict(task_id=p['task_id'], completion=p['canonical_solution']) for p in probs]

def one_line_error(r, *parts):
    "A user error: exit 2, one line on stderr holding every part, no traceback."
    assert r.returncode == 2 and 'Traceback' not in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert all(p in r.stderr for p in parts), r.stderr

def test_canonical_solutions_pass_on_a_problem_file(tmp_path):
    "Two problems of a set that is not HumanEval, gzipped, through `python -m codelm` in a new process: both canonical solutions pass."
    probs = jsonl(tmp_path/'toy.jsonl.gz', TOY, gz=True)
    assert list(he.load_problems(path=probs)) == ['Toy/0', 'Toy/1']
    samples = jsonl(tmp_path/'s.jsonl', canonical(TOY) + [dict(task_id='Toy/1', completion='    return s\n')])
    r = subprocess.run([sys.executable, '-m', 'codelm', 'humaneval', '--samples', samples, '--problems', probs, *ARGS, '--json'],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    j = json.loads(r.stdout)
    assert (j['problems'], j['of'], j['samples'], j['status']) == (2, 2, 3, {'passed': 2, 'failed': 1})
    assert j['pass@1'] == pytest.approx((1 + 1 / 2) / 2) and j['problems_file'] == str(probs) and j['dropped_samples'] == 0
    assert [row['correct'] for row in j['per_problem']] == [1, 1]

def test_limit_counts_the_samples_it_leaves_out(tmp_path):
    probs = jsonl(tmp_path/'toy.jsonl', TOY)
    samples = jsonl(tmp_path/'s.jsonl', canonical(TOY) * 2)
    r = codelm('humaneval', '--samples', samples, '--problems', probs, '--limit', 1, *ARGS)
    assert r.returncode == 0, r.stderr
    assert 'toy.jsonl, ' in r.stdout and '1 problems (of 1), 2 samples' in r.stdout
    assert '--limit 1: 2 samples of 1 problems past the first 1 left out' in r.stdout, r.stdout
    # a task_id of no problem at all is an error naming the line, with --limit as without
    jsonl(samples, canonical(TOY) + [dict(task_id='Toy/7', completion='')])
    for extra in ((), ('--limit', 1)):
        one_line_error(codelm('humaneval', '--samples', samples, '--problems', probs, *extra, *ARGS), 's.jsonl:3:', "'Toy/7'", 'not one of the 2 problems')

def test_generation_uses_the_problem_file(tmp_path, monkeypatch):
    "The generating path: the prompts come from the file (a fake model answers each prompt with its canonical solution)."
    class Oracle:
        name, family = 'oracle', 'causal'
        def generate(self, prompt, n=1, **kw): return [{p['prompt']: p['canonical_solution'] for p in TOY}[prompt]] * n
    monkeypatch.setattr(he, 'load_model', lambda spec, device=None: Oracle())
    r = codelm('humaneval', 'fake', '--problems', jsonl(tmp_path/'toy.jsonl', TOY), '-n', 2, *ARGS)
    assert r.returncode == 0, r.stderr
    assert 'toy.jsonl, oracle at T=0.2: 2 problems (of 2), 4 samples' in r.stdout and 'pass@1    100.00%' in r.stdout, r.stdout

def bad_problem_files(d):
    "(file, what the error must say) for each way a problem file can be wrong."
    no_test = {k: v for k, v in TOY[1].items() if k != 'test'}
    cut = gzip.compress(''.join(json.dumps(dict(TOY[0], task_id=f'Toy/{i}')) + '\n' for i in range(3000)).encode())
    (d/'dir').mkdir()
    (d/'cut.jsonl.gz').write_bytes(cut[:len(cut) // 2])
    (d/'bin.jsonl').write_bytes(b'\x00\xff\xfe\x89PNG\r\n')
    (d/'text.jsonl').write_text('task_id,prompt\nToy/0,def f():\n')
    return [(d/'missing.jsonl', ['missing.jsonl: problems file does not exist']),
            (d/'dir', ['dir: is a directory; expected a problems file']),
            (d/'cut.jsonl.gz', ['cut.jsonl.gz:', 'the gzip stream ends early']),
            (d/'bin.jsonl', ['bin.jsonl:1: not UTF-8 text']),
            (d/'text.jsonl', ['text.jsonl:1: not valid JSON']),
            (jsonl(d/'field.jsonl', [TOY[0], no_test]), ["field.jsonl:2: field 'test' missing", "HumanEval's format"]),
            (jsonl(d/'type.jsonl', [dict(TOY[0], prompt=['x'])]), ["type.jsonl:1: field 'prompt' is list, not a string"]),
            (jsonl(d/'dup.jsonl', [TOY[0], TOY[1], TOY[0]]), ["dup.jsonl:3: task_id 'Toy/0' repeats line 1"]),
            # issue 35
            (jsonl(d/'alt.jsonl', [TOY[0], dict(NE0, canonical_solution=['a.T', None])]), ["alt.jsonl:2: field 'canonical_solution[1]' is NoneType, not a string"]),
            (jsonl(d/'alt0.jsonl', [dict(NE0, canonical_solution=[])]), ["alt0.jsonl:1: field 'canonical_solution' is an empty list"]),
            (jsonl(d/'solint.jsonl', [dict(NE0, canonical_solution=3)]), ["solint.jsonl:1: field 'canonical_solution' is int, not a string or a list of strings"]),
            (jsonl(d/'epnone.jsonl', [TOY[0], dict(NE0, entry_point='None')]), ["epnone.jsonl:2: field 'entry_point' 'None': expected", 'or "none"']),
            (jsonl(d/'epkw.jsonl', [dict(TOY[0], entry_point='lambda')]), ["epkw.jsonl:1: field 'entry_point' 'lambda': expected"]),
            (jsonl(d/'eplist.jsonl', [dict(NE0, entry_point=['none'])]), ["eplist.jsonl:1: field 'entry_point' is list, not a string"]),
            (jsonl(d/'nocheck.jsonl', [TOY[0], TOY[1], dict(NE0, test=META + 'def test():\n    assert result is not None\n')]),
             ["nocheck.jsonl:3: field 'test' defines no check function"]),
            (jsonl(d/'empty.jsonl', []), ['empty.jsonl: no problems in the file'])]

def test_bad_problem_files_are_one_line_errors(tmp_path):
    samples = jsonl(tmp_path/'s.jsonl', canonical(TOY))
    for path, parts in bad_problem_files(tmp_path):
        one_line_error(codelm('humaneval', '--samples', samples, '--problems', path, *ARGS), *parts)

def test_bad_sample_files_are_one_line_errors(tmp_path):
    "Issue 24: a binary file (was UnicodeDecodeError), a truncated .jsonl.gz (was EOFError), a directory (was 'does not exist')."
    probs = jsonl(tmp_path/'toy.jsonl', TOY)
    whole = gzip.compress(''.join(json.dumps(dict(task_id='Toy/0', completion='    return a + b\n')) + '\n' for _ in range(3000)).encode())
    (tmp_path/'cut.jsonl.gz').write_bytes(whole[:len(whole) // 2])
    (tmp_path/'bin.jsonl').write_bytes(json.dumps(canonical(TOY)[0]).encode() + b'\n\x80\x81binary\n')
    (tmp_path/'dir.jsonl').mkdir()
    for name, parts in (('cut.jsonl.gz', ['cut.jsonl.gz:', 'the gzip stream ends early']), ('bin.jsonl', ['bin.jsonl:2: not UTF-8 text']),
                        ('dir.jsonl', ['dir.jsonl: is a directory; expected a samples file']),
                        ('none.jsonl', ['none.jsonl: samples file does not exist'])):
        one_line_error(codelm('humaneval', '--samples', tmp_path/name, '--problems', probs, *ARGS), *parts)
    # the same sample file, whole, scores
    (tmp_path/'whole.jsonl.gz').write_bytes(whole)
    r = codelm('humaneval', '--samples', tmp_path/'whole.jsonl.gz', '--problems', probs, *ARGS, '--json')
    assert r.returncode == 0 and json.loads(r.stdout)['pass@1'] == 1.0, r.stderr


def test_published_shapes_load_as_published(tmp_path):
    "PandasEval, NumpyEval and MBPP-converted records load with every field as written; the programs end with check() for entry_point none."
    for name, recs, gz in (('PandasEval.jsonl.gz', PE, True), ('NumpyEval.jsonl', [NE0], False), ('mbpp.jsonl', [MBPP], False)):
        assert he.read_problems(jsonl(tmp_path/name, recs, gz)) == {r['task_id']: r for r in recs}
    assert [len(he.solutions(p)) for p in SHAPES] == [2, 1, 1, 3, 1] and he.solutions(dict(TOY[0], canonical_solution=None)) == []
    assert he.build_program(NE0, 'a.T').endswith('\n\ncheck()\n') and he.build_program(MBPP, '').endswith('\n\ncheck(is_not_prime)\n')
    # and they run: entry_point none through check(), the alternatives each a program of its own
    r = he.check_completion(NE0, 'np.transpose(a)')
    assert r['status'] == 'passed', r
    assert he.check_completion(NE0, 'a')['status'] == 'failed'

def test_gate_alone_reports_each_problem_and_fails_on_the_unpassable_one(tmp_path):
    "`--check-solutions` with no model and no samples: one line per problem, PandasEval/29's shape named with why, exit status 1."
    probs = jsonl(tmp_path/'cert.jsonl.gz', SHAPES, gz=True)
    r = subprocess.run([sys.executable, '-m', 'codelm', 'humaneval', '--problems', probs, '--check-solutions', '--workers', '2'],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 1, (r.stdout, r.stderr)
    lines = r.stdout.splitlines()
    assert [l.split()[0] for l in lines[:5]] == [p['task_id'] for p in SHAPES], r.stdout
    assert lines[0].startswith('PandasEval/0   pass (2 of 2 solutions pass)') and lines[3].startswith('NumpyEval/0    pass (3 of 3'), r.stdout
    assert re.match(r"PandasEval/29  FAIL: TypeError: check\(\) missing 1 required positional argument: 'candidate'.*no completion can pass", lines[2]), lines[2]
    assert 'gate (cert.jsonl.gz): 4 of 5 problems pass with a canonical solution (8 solutions run in' in r.stdout
    assert '1 problems left out of pass@k: no canonical solution passes (PandasEval/29)' in r.stdout
    # the same gate as JSON; a file every solution passes exits 0
    j = json.loads(codelm('humaneval', '--problems', probs, '--check-solutions', '--workers', 2, '--json').stdout)
    assert (j['problems'], j['passed'], j['failed'], j['unchecked'], j['solutions']) == (5, 4, 1, 0, 8)
    assert [row['status'] for row in j['per_problem']] == ['passed', 'passed', 'failed', 'passed', 'passed']
    ok = codelm('humaneval', '--problems', jsonl(tmp_path/'ok.jsonl', [NE0, MBPP, dict(TOY[0], canonical_solution=None)]), '--check-solutions', '--workers', 2)
    assert ok.returncode == 0 and 'gate (ok.jsonl): 2 of 2 problems pass' in ok.stdout, ok.stdout
    assert 'Toy/0        no canonical solution: not checked' in ok.stdout and '1 problems have no canonical solution: not checked, scored' in ok.stdout

def test_scoring_leaves_out_what_no_solution_passes_and_counts_it(tmp_path):
    "Samples of every problem: PandasEval/29's are not scored, the result and the report say how many problems and samples were left out."
    probs = jsonl(tmp_path/'cert.jsonl', SHAPES)
    samples = jsonl(tmp_path/'s.jsonl', [dict(task_id=p['task_id'], completion=c) for p in SHAPES
                                         for c in (he.solutions(p)[-1], 'None' if p['entry_point'] == 'none' else '    return None\n')])
    r = codelm('humaneval', '--samples', samples, '--problems', probs, *ARGS, '--json')
    assert r.returncode == 0, r.stderr
    j = json.loads(r.stdout)
    assert (j['problems'], j['of'], j['samples'], j['left_out_samples'], list(j['left_out'])) == (4, 5, 8, 2, ['PandasEval/29'])
    assert j['pass@1'] == 0.5 and j['gate']['failed'] == 1 and 'TypeError' in j['left_out']['PandasEval/29']
    assert j['notes'][0] == '1 problems left out: no canonical solution passes (PandasEval/29); their 2 samples are not scored'
    rep = codelm('humaneval', '--samples', samples, '--problems', probs, *ARGS).stdout
    assert 'cert.jsonl, ' in rep and '4 problems (of 5), 8 samples' in rep and 'gate: 4 of 5 problems pass with a canonical solution' in rep
    assert '1 problems left out: no canonical solution passes (PandasEval/29); their 2 samples are not scored' in rep, rep
    # samples of the unpassable problem only: nothing to score, one line
    one_line_error(codelm('humaneval', '--samples', jsonl(tmp_path/'29.jsonl', [dict(task_id='PandasEval/29', completion="df.sort_values('a')")]),
                          '--problems', probs, *ARGS), 'no problem left to score', 'PandasEval/29: TypeError')

def test_pass_at_k_carries_a_bootstrap_interval(tmp_path):
    "The interval is over problems, seeded: 10 problems, 4 right -> pass@1 0.4 with an interval that holds it and is not a point."
    probs = [dict(TOY[0], task_id=f'Toy/{i}') for i in range(10)]
    samples = [dict(task_id=p['task_id'], completion='    return a + b\n' if i < 4 else '    return a - b\n') for i, p in enumerate(probs)]
    r = codelm('humaneval', '--samples', jsonl(tmp_path/'s.jsonl', samples), '--problems', jsonl(tmp_path/'p.jsonl', probs), *ARGS, '--json')
    j = json.loads(r.stdout)
    lo, hi = j['pass@1_ci']
    assert j['pass@1'] == 0.4 and 0.0 <= lo < 0.4 < hi <= 0.8 and hi - lo >= 0.4, (lo, hi)   # binomial: 0.4 +- 1.96 * 0.155
    assert j['interval'] == dict(level=0.95, method='percentile bootstrap over problems', resamples=1000, seed=0)
    assert he.bootstrap_interval([1.0] * 4 + [0.0] * 6) == (lo, hi)   # the same draw: seeded
    rep = codelm('humaneval', '--samples', tmp_path/'s.jsonl', '--problems', tmp_path/'p.jsonl', *ARGS).stdout
    assert f'pass@1     40.00%  95% CI [{lo * 100:.2f}%, {hi * 100:.2f}%]' in rep, rep

def test_sweep_rows_and_plot_carry_the_intervals(tmp_path, monkeypatch):
    "--temperature 0.2,0.8 with a fake model right with probability 1 - T: the gate runs once, the failing problem is never generated for, and the figure has error bars."
    import random
    asked, gates = [], []
    class Noisy:
        name, family = 'noisy', 'causal'
        def generate(self, prompt, n=1, temperature=0.2, seed=0, **kw):
            asked.append(prompt)
            p = next(p for p in SHAPES if p['prompt'] == prompt)
            rng = random.Random(seed)
            return [he.solutions(p)[0] if rng.random() > temperature else 'None\n' for _ in range(n)]
    real = he.check_solutions
    monkeypatch.setattr(he, 'load_model', lambda spec, device=None: Noisy())
    monkeypatch.setattr(he, 'check_solutions', lambda *a, **kw: gates.append(1) or real(*a, **kw))
    r = codelm('humaneval', 'fake', '--problems', jsonl(tmp_path/'cert.jsonl', SHAPES), '-n', 10, '--temperature', '0.2,0.8',
               '--plot', tmp_path/'sweep.html', *ARGS, '--json')
    assert r.returncode == 0, r.stderr
    runs = json.loads(r.stdout)
    assert len(gates) == 1 and PE[2]['prompt'] not in asked and len(asked) == 2 * 4
    assert [(x['temperature'], x['problems'], x['of'], list(x['left_out'])) for x in runs] == [(0.2, 4, 5, ['PandasEval/29']), (0.8, 4, 5, ['PandasEval/29'])]
    assert all(x['pass@1_ci'][0] <= x['pass@1'] <= x['pass@1_ci'][1] for x in runs) and runs[0]['pass@1'] > runs[1]['pass@1']
    html = (tmp_path/'sweep.html').read_text()
    assert '"arrayminus"' in html and '95% bootstrap intervals over problems' in html and 'cert.jsonl pass@k against temperature' in html
    rows = he.sweep_rows([dict(x, model='noisy') for x in runs], 10)
    assert [(row['temperature'], row['lo'], row['value'], row['hi']) for row in rows] == [(x['temperature'], *x['pass@1_ci'][:1], x['pass@1'], x['pass@1_ci'][1]) for x in runs]

def test_pandas_imports_within_the_sandbox_limits():
    "Issue 35.2: `import pandas` inside the sandbox under the default SandboxConfig, with its time and peak address space measured."
    cfg = SandboxConfig()
    prog = ('import time, resource\nt = time.perf_counter()\nimport pandas as pd, numpy as np\ndt = time.perf_counter() - t\n'
            'peak = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmPeak"))\n'
            'assert pd.DataFrame({"a": [1, 2]})["a"].sum() == 3\nprint(f"IMPORT {dt:.3f} s, VmPeak {peak // 1024} MB")\n')
    r = run_sandboxed(prog, cfg)
    assert r['status'] == 'passed', r
    secs, mb = map(float, re.search(r'IMPORT ([\d.]+) s, VmPeak (\d+) MB', r['output']).groups())
    print(f'import pandas in the sandbox: {secs:.2f} s, peak address space {mb:.0f} MB (limits: {cfg.timeout} s, {cfg.memory_mb} MB)')
    assert secs < cfg.timeout / 2 and mb < cfg.memory_mb / 2, (secs, mb)   # room left for the problem itself
