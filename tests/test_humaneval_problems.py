"""`codelm humaneval --problems FILE` (issue 21): any problem set in HumanEval's format, validated; and the errors of
sample files (issue 24): binary, truncated gzip, a directory, unknown task_ids and samples left out by --limit."""
import gzip, json, subprocess, sys
from pathlib import Path
import pytest
from conftest import codelm
import codelm.humaneval as he

TOY = [dict(task_id='Toy/0', entry_point='add', prompt='def add(a, b):\n    """The sum of a and b."""\n',
            canonical_solution='    return a + b\n',
            test='def check(candidate):\n    assert candidate(1, 2) == 3\n    assert candidate(-1, 1) == 0\n'),
       dict(task_id='Toy/1', entry_point='rev', prompt='def rev(s):\n    """`s` backwards."""\n',
            canonical_solution='    return s[::-1]\n',
            test='def check(candidate):\n    assert candidate("abc") == "cba"\n    assert candidate("") == ""\n')]
ARGS = ('-k', '1', '--workers', '2', '--timeout', '10')

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
