"End-to-end checks of the `codelm` command as a user runs it: the console script in a new process, or its `main` in this one; real files."
import gzip, json
import pytest
from conftest import codelm, codelm_process

def run(*args, check=True): return codelm(*args, check=check)

def test_help_lists_subcommands():
    r = codelm_process('--help')
    assert r.returncode == 0 and all(c in r.stdout for c in ('corpus', 'tokenizers', 'train', 'complete', 'eval', 'humaneval', 'run', 'explore'))
    assert '--csn-path' in run('corpus', 'build', '--help').stdout

def _subcommands(p, name='codelm'):
    "Every leaf subcommand's parser under `p`, with its name."
    import argparse
    subs = [a for a in p._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs: yield name, p; return
    for a in subs:
        for n, sp in a.choices.items(): yield from _subcommands(sp, f'{name} {n}')

def test_every_flag_is_declared_once():
    "Issue 22 point 6: every flag of every subcommand is declared through `codelm.args.Flags`, by the library parameter it sets; a flag's default is the library's unless declared as the command's own."
    import inspect
    from codelm.cli import parser
    seen = 0
    for name, p in _subcommands(parser()):
        f = p.get_default('_flags')
        assert f is not None, f'{name}: flags not declared through codelm.args.Flags'
        dests = [a.dest for a in p._actions if a.dest not in ('help', '_flags')]
        assert sorted(dests) == sorted(f.params), (name, dests, f.params)
        for a in p._actions:
            fn, sp = f._find(a.dest) if a.dest in f.params else (None, None)
            if sp is not None and sp.default is not inspect.Parameter.empty and not a.required and (name, a.dest) not in (('codelm complete', 'n'), ('codelm complete', 'seed')):
                assert a.default == sp.default or (isinstance(sp.default, tuple) and a.default == list(sp.default)), (name, a.dest, a.default, sp.default)
            seen += 1
    assert seen > 100, seen

def test_corpus_build_from_directory(tmp_path):
    src = tmp_path/'src'
    for i in range(12):
        (src/f'p{i}').mkdir(parents=True)
        (src/f'p{i}'/'m.py').write_text(f'def f{i}(x):\n    # note\n    return x+{i}\n\ndef g{i}():\n    """Doc."""\n    return "#{i}"\n')
    (src/'broken.py').write_text('def f(:\n')
    r = run('corpus', 'build', '--source', src, '--out', tmp_path/'c', '--workers', '1', '--json')
    st = json.loads(r.stdout)
    assert sum(v['functions'] for v in st['splits'].values()) == 24
    assert st['skipped']['file_syntax_error']['count'] == 1
    recs = [json.loads(l) for s in ('train', 'valid', 'test') for l in gzip.open(tmp_path/'c'/f'{s}.jsonl.gz', 'rt')]
    assert all('# note' not in r['code'] and '"#' in r['code'] or r['func_name'].startswith('f') for r in recs)
    # unchanged inputs: a hash check, not a rebuild
    again = run('corpus', 'build', '--source', src, '--out', tmp_path/'c')
    assert 'cached' in again.stdout or 'built in' in again.stdout
    assert json.loads(run('corpus', 'stats', tmp_path/'c', '--json').stdout)['fingerprint'] == st['fingerprint']

def test_strict_names_file_and_line(tmp_path):
    (tmp_path/'src').mkdir(); (tmp_path/'src'/'bad.py').write_text('x = 1\ndef f(:\n')
    r = run('corpus', 'build', '--source', tmp_path/'src', '--out', tmp_path/'c', '--strict', check=False)
    assert r.returncode == 2 and 'bad.py:2' in r.stderr and 'Traceback' not in r.stderr

def test_bad_csn_path_is_a_clear_error(tmp_path):
    r = run('corpus', 'build', '--source', 'csn', '--csn-path', tmp_path, '--out', tmp_path/'c', check=False)
    assert r.returncode == 2 and 'final/jsonl' in r.stderr and 'Traceback' not in r.stderr

def test_bad_flag_is_one_line_in_a_new_process(smoke_registry):
    "The console script: a flag out of its range is one line naming the flag and the range, status 2, before a model is loaded."
    r = codelm_process('complete', smoke_registry/'runs'/'smoke'/'gpt2', '--prompt', 'x', '-n', '100000000')
    assert r.returncode == 2 and 'Traceback' not in r.stderr
    assert r.stderr.splitlines() == ["codelm complete: error: argument -n: expected an integer from 1 to 1000, got '100000000' (see codelm complete --help)"]
    r = codelm_process('fill', smoke_registry/'runs'/'smoke'/'gpt2', '--text', 'x = <mask>', '-k', 'nan')
    assert r.returncode == 2 and len(r.stderr.splitlines()) == 1 and 'argument -k: expected an integer from 1 to 100' in r.stderr
