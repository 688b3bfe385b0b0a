"`codelm syntax` as a user runs it: the console script in a new process, on real files of several languages."
from conftest import codelm_process

def test_syntax_command_judges_files_and_counts_the_rest(tmp_path):
    (tmp_path/'ok.go').write_text('package p\n\nfunc f(x int) int {\n\treturn x + 1\n}\n')
    (tmp_path/'cut.java').write_text('class A {\n  int f(int x) {\n    return x +')
    (tmp_path/'bad.rb').write_text('def f(x)\n  [x))\nend\n')
    (tmp_path/'notes.txt').write_text('hello\n')
    files = [tmp_path/n for n in ('ok.go', 'cut.java', 'bad.rb', 'notes.txt', 'gone.py')]
    r = codelm_process('syntax', *files, timeout=300)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[:3] == [f'{tmp_path}/ok.go: go valid', f'{tmp_path}/cut.java: java incomplete', f'{tmp_path}/bad.rb: ruby invalid']
    assert lines[3].startswith(f'{tmp_path}/notes.txt: language unknown') and lines[4] == f'{tmp_path}/gone.py: missing'
    assert lines[5] == '5 files: 1 valid, 1 incomplete, 1 invalid, 2 not judged'
    assert codelm_process('syntax', *files, '--strict', timeout=300).returncode == 1
    r = codelm_process('syntax', tmp_path/'ok.go', '--language', 'cobol', timeout=300)
    assert r.returncode == 2 and len(r.stderr.splitlines()) == 1 and '--language: cobol: unknown language' in r.stderr, r.stderr
