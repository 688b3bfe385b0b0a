"`codelm train` as a user runs it: a real run directory, a run killed mid-training and resumed, bad input refused before training."
import csv, json, os, signal, subprocess, sys, time
from pathlib import Path
import pytest
from conftest import CODELM, codelm
from codelm.data import sample_corpus

ENV = dict(os.environ, CODELM_NO_BAR='1')

def train(out, *extra, tokenizer='char', arch='awd_qrnn'):
    "`codelm train` arguments for a smoke run."
    return ['train', '--arch', arch, '--tokenizer', tokenizer, '--preset', 'smoke', '--corpus', str(sample_corpus()),
            '--out', str(out), *extra]

def test_bad_input_fails_before_training(tmp_path):
    for args, msg in [(train(tmp_path/'a', arch='lstm'), '--arch lstm'),
                      (train(tmp_path/'b', tokenizer='bytebpe'), '--tokenizer bytebpe'),
                      (['train', '--arch', 'awd_lstm', '--tokenizer', 'char', '--corpus', str(tmp_path), '--out', str(tmp_path/'c')], 'no train split'),
                      (train(tmp_path/'d', '--budget-mb', '0'), "argument --budget-mb: expected a finite number of megabytes above 0, got '0'"),
                      (train(tmp_path/'e', '--budget-mb', '0.0005'), 'make no full batch of 32 x 64 tokens'),
                      (train(tmp_path/'f', '--lr', '-1'), "argument --lr: expected a finite learning rate above 0, got '-1'")]:
        r = codelm(*args)
        assert r.returncode == 2 and msg in r.stderr and 'Traceback' not in r.stderr, r.stderr
        assert not any(p.name == 'checkpoint.safetensors' for p in tmp_path.rglob('*'))

def test_killed_run_resumes_and_finishes(tmp_path):
    run = tmp_path/'run'
    p = subprocess.Popen([CODELM, *train(run, '--epochs', '3')], env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    t = time.time()
    while not (run/'checkpoint.safetensors').exists() and p.poll() is None and time.time() - t < 120: time.sleep(0.05)
    assert p.poll() is None, 'the run ended before a checkpoint appeared'
    p.send_signal(signal.SIGKILL); p.wait()
    assert (run/'checkpoint.safetensors').exists() and not (run/'model.safetensors').exists()
    assert json.loads((run/'codelm.json').read_text())['status'] == 'training'
    # resuming with another tokenizer is refused before any training
    r = codelm(*train(run, '--epochs', '3', tokenizer='bpe'))
    assert r.returncode == 2 and 'cannot resume' in r.stderr, r.stderr
    r = codelm(*train(run, '--epochs', '3'))
    assert r.returncode == 0, r.stderr
    cfg = json.loads((run/'codelm.json').read_text())
    assert cfg['status'] == 'finished' and (run/'model.safetensors').exists() and not (run/'checkpoint.safetensors').exists()
    hist = list(csv.DictReader((run/'history.csv').read_text().splitlines()))
    assert [r['epoch'] for r in hist if r['row'] == 'epoch'] == ['0', '1', '2']  # three epochs (from scratch: none frozen), each once
    steps = [int(r['step']) for r in hist]
    assert steps == sorted(set(steps)) and cfg['freeze_epochs'] == 0  # every curve point once, in order
    r = codelm(*train(run, '--epochs', '3'))
    assert r.returncode == 0 and 'finished already' in r.stdout

def test_tokenizer_is_the_one_asked_for(tmp_path, smoke_registry):
    "Issue 40, point 5: a refused --pretrained leaves no tokenizer behind, and a run directory holding another kind is refused."
    from codelm.tokenization import TOKENIZER_FILES
    lstm = smoke_registry/'runs'/'smoke'/'awd_lstm-char'
    out = tmp_path/'run'
    r = codelm(*train(out, '--pretrained', str(lstm)))          # an awd_lstm run to fine-tune as awd_qrnn: refused
    assert r.returncode == 2 and 'not awd_qrnn' in r.stderr, r.stderr
    assert not [n for n in TOKENIZER_FILES if (out/n).exists()], sorted(p.name for p in out.iterdir())
    for n in TOKENIZER_FILES:                                    # what such a refusal used to leave: the char tokenizer
        if (lstm/n).exists(): (out/n).write_bytes((lstm/n).read_bytes())
    r = codelm(*train(out, tokenizer='bpe'))
    assert r.returncode == 2 and 'holds a char tokenizer, not bpe (--tokenizer bpe)' in r.stderr and 'Traceback' not in r.stderr, r.stderr
    assert not (out/'codelm.json').exists()
