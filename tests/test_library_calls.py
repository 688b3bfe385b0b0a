"Library-call completion end to end (issue 35, point 7): a corpus built with `--library pandas`, a smoke run trained on it, `codelm eval`'s `library_calls`."
import json, shutil
import pytest
from conftest import codelm

def pandas_source(root, n=24):
    "n packages: a file of three functions that use pandas (a frame read, a frame built, pd.concat) and one that does not."
    for i in range(n):
        d = root/f'p{i}'; d.mkdir(parents=True)
        (d/'frames.py').write_text(
            'import pandas as pd\n\n'
            f'def load{i}(path):\n    df = pd.read_csv(path, nrows={i})\n    df = df.dropna()\n    return df.groupby("key").sum()\n\n'
            f'def stack{i}(df):\n    return pd.concat([df.mean(), df.std()], axis={i % 2})\n\n'
            f'def table{i}(rows):\n    frame = pd.DataFrame(rows)\n    frame.columns = ["a", "b"]\n    return frame.head({i})\n')
        (d/'plain.py').write_text(f'def add{i}(x):\n    return x + {i}\n')
    return root

@pytest.fixture(scope='module')
def lib_run(tmp_path_factory):
    "A pandas corpus of the functions that use it, and a smoke AWD-LSTM (char) run trained on it."
    d = tmp_path_factory.mktemp('libcalls')
    st = json.loads(codelm('corpus', 'build', '--source', pandas_source(d/'src'), '--out', d/'corpus', '--library', 'pandas', '--no-autopep8',
                           '--workers', '1', '--json', check=True).stdout)
    assert st['library']['name'] == 'pandas' and st['library']['kept'] == 72 and st['splits']['test']['functions'] > 0, st
    codelm('train', '--arch', 'awd_lstm', '--tokenizer', 'char', '--preset', 'smoke', '--corpus', d/'corpus', '--out', d/'run', '--budget-mb', '0.02', check=True)
    return d

def test_eval_reports_library_calls(lib_run):
    "`codelm eval` on a library corpus: sites sampled from the scored test functions, hit rates in [0, 100] inside their intervals, a frequency baseline."
    from codelm.data import read_split
    from codelm.evaluate import library_sites
    d = lib_run
    m = json.loads(codelm('eval', d/'run', '--limit', 4, '--lines', 1, '--headers', 1, '--library-sites', 6, '--json', check=True).stdout)
    assert m == json.loads((d/'run'/'metrics.json').read_text())
    lc = m['library_calls']
    codes = [r['code'] for r in read_split(d/'corpus', 'test')][:4]  # the scored functions: the first four (or all) of the test split
    assert lc['library'] == 'pandas' and lc['k'] == 5 and lc['unparsed'] == 0 and lc['functions'] == len(codes) == m['scored_functions']
    assert lc['sites_total'] == sum(len(library_sites(c, 'pandas')) for c in codes) > 0 and lc['sites'] == min(6, lc['sites_total'])
    for r in (lc, lc['baseline']):
        for k in ('top1', 'top5'):
            lo, hi = r[f'{k}_ci']
            assert 0 <= lo <= r[k] <= hi <= 100, (k, r)
        assert r['top1'] <= r['top5'] and r['top5_hits'] <= lc['sites']
    b = lc['baseline']
    assert b['train_functions'] == len(list(read_split(d/'corpus', 'train'))) and b['train_sites'] > 0
    assert b['top5'] > 0  # the same code in every package: the train split's frequencies find most attributes
    assert 1 <= len(lc['examples']) <= 5 and all(len(e['predictions']) <= 5 for e in lc['examples'])

def test_eval_without_library_section(lib_run):
    "A corpus whose stats.json has no `library` section (not built with --library) gets `library_calls: null` and no report line."
    d = lib_run
    plain = d/'plain_corpus'
    if not plain.exists():
        shutil.copytree(d/'corpus', plain)
        st = json.loads((plain/'stats.json').read_text()); del st['library']; (plain/'stats.json').write_text(json.dumps(st))
    r = codelm('eval', d/'run', '--corpus', plain, '--limit', 4, '--lines', 1, '--headers', 1, check=True)
    assert 'library calls' not in r.stdout and 'bits/byte' in r.stdout
    assert json.loads((d/'run'/'metrics.json').read_text())['library_calls'] is None

@pytest.mark.parametrize('bad', ['0', '-1', 'nan', '2.5', 'x', 'é\\'])
def test_library_sites_flag_is_checked(bad):
    "`--library-sites` is refused before anything is loaded, in one line naming the flag."
    r = codelm('eval', 'no/such/run', '--library-sites', bad)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert f"codelm eval: error: argument --library-sites: expected an integer of 1 or more, got {bad!r}" in r.stderr
