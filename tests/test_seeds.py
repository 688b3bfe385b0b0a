"""Training noise and the baselines' conditioning (issue 38): bench/seeds.py's seed list refused in one line naming the flag,
`codelm baselines` refusing a PPMd order or an xz sample out of range, and the report naming which comparisons are within
training noise once seeds.json is there. Nothing here trains: bench/seeds.py itself is a benchmark (minutes per seed)."""
import importlib.util, io, json, sys
from contextlib import redirect_stderr
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parent.parent

def seeds_module():
    spec = importlib.util.spec_from_file_location('bench_seeds', ROOT/'bench'/'seeds.py')
    m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)
    return m

@pytest.mark.parametrize('text, says', [('', "'': expected one or more integers"), (' , ', 'expected one or more integers'),
                                        ('1,x', "'x' is not an integer"), ('1.5', "'1.5' is not an integer"), ('42', "42 is the preset's own seed"),
                                        ('1,1', '1 is given twice'), ('-1', '-1: expected 0 to 4294967295'), ('4294967296', 'expected 0 to')])
def test_bad_seed_list_is_one_line(text, says):
    m = seeds_module()
    with redirect_stderr(io.StringIO()) as err, pytest.raises(SystemExit) as e: m.parse_seeds(text, 42)
    assert e.value.code == 2
    lines = err.getvalue().strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith('bench/seeds.py: --seeds: ') and says in lines[0], lines

def test_good_seed_list():
    assert seeds_module().parse_seeds(' 1, 2,7 ', 42) == [1, 2, 7]

@pytest.mark.parametrize('flag, value', [('--ppmd-order', '1'), ('--ppmd-order', '65'), ('--ppmd-order', 'six'), ('--xz-functions', '0'), ('--xz-functions', '-4')])
def test_bad_compressor_setting_is_one_line(flag, value):
    from codelm.cli import main
    from codelm.data import sample_corpus
    with redirect_stderr(io.StringIO()) as err, pytest.raises(SystemExit) as e:
        main(['baselines', '--corpus', str(sample_corpus()), flag, value])
    assert e.value.code == 2
    lines = err.getvalue().strip().splitlines()
    assert len(lines) == 1 and flag in lines[0], lines

def test_report_says_which_comparisons_are_within_training_noise(tmp_path):
    "A registry with seeds.json: the table prints each run's spread over seeds, the findings name the noise, the report says where it came from."
    from codelm.experiment import results_markdown, findings, read_seeds
    def rec(name, bpb, ci):
        return dict(name=name, config=dict(family='causal', tokenizer=name.split('-')[-1], tokens_per_s=1000), history=[], samples=None,
                    metrics=dict(bpb=bpb, bpb_ci=ci, token_accuracy=0.5, baselines=dict(ppmd_per_function_bpb=1.6, headline='ppmd_per_function', headline_bpb=1.6,
                                                                                        test_bytes=100, train_bytes=10, test_functions=3)))
    recs = [rec('awd_lstm-char', 1.84, [1.78, 1.91]), rec('awd_lstm-bpe', 1.80, [1.74, 1.87])]
    (tmp_path/'seeds.json').write_text(json.dumps(dict(runs={
        'awd_lstm-char': dict(seeds=[42, 1, 2], bpb=[1.84, 1.90, 1.87], mean=1.87, sd=0.03, min=1.84, max=1.90),
        'awd_lstm-bpe': dict(seeds=[42, 1, 2], bpb=[1.80, 1.81, 1.80], mean=1.8033, sd=0.0058, min=1.80, max=1.81)})))
    seeds = read_seeds(tmp_path)
    md = results_markdown(recs, seeds)
    assert '1.870 ± 0.030 (3 seeds: 1.840-1.900)' in md and 'over seeds' in md.splitlines()[0]
    fd = findings(recs, seeds)
    row = fd[fd.question == 'AWD-LSTM: does char beat BPE?'].verdict.iloc[0]
    assert row.startswith('BPE beats char') and 'within training noise (difference 0.040' in row and 'intervals overlap' in row, row
    ppmd = fd[fd.question.str.contains('PPMd given the same training text')].verdict.iloc[0]
    assert ppmd.startswith('no model beats this baseline') and 'awd_lstm-bpe (1.800), is 0.200 above it: beyond training noise' in ppmd, ppmd
