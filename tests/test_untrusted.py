"""Untrusted checkpoints and paths (issue 40, points 2 and 8).

Point 2: a model or tokenizer directory whose config.json / tokenizer_config.json has an `auto_map` made transformers ask on stdin
whether to run the directory's Python, and with `y` piped in it ran. Each command that loads one (humaneval on a model directory;
complete, fill, eval, tokenizers stats and train --pretrained on a run whose tokenizer is marked pretrained) is fed `y` and must
refuse in one line naming the file and the field, with exit status 2, and the canary that the planted code writes when imported
must not appear.

Point 8: a transformer run whose model.safetensors lacks a tensor or has one too many is refused (eval writes no metrics);
`codelm convert` refuses a symbolic link instead of copying what it points at; `codelm run --corpus` refuses a run directory or a
place in the registry; an empty `--out` (`--runs`, `--report`) is refused as it is parsed.

The commands run in this process (conftest's `codelm`, stdin replaced), but humaneval runs as the console script with `y` piped in."""
import io, json, os, shutil, subprocess, sys
from pathlib import Path
import pytest
from conftest import CODELM, codelm, copy_runs

CONF = ("import pathlib; pathlib.Path({canary!r}).write_text('the checkpoint code ran')\n"
        "from transformers import GPT2Config\nclass EvilConfig(GPT2Config): model_type = 'evil'\n")
MODEL = ("import pathlib; pathlib.Path({canary!r}).write_text('the checkpoint code ran')\n"
         "from transformers import GPT2LMHeadModel\nclass EvilModel(GPT2LMHeadModel): pass\n")
YES = 'y\n' * 8

def plant(d:Path, canary:Path) -> Path:
    "Make `d` ask transformers to run code of its own (a model type transformers does not know, with an `auto_map`) that writes `canary` when imported."
    c = json.loads((d/'config.json').read_text()) if (d/'config.json').exists() else {}
    c.update(model_type='evil', auto_map=dict(AutoConfig='configuration_evil.EvilConfig', AutoModelForCausalLM='modeling_evil.EvilModel'))
    (d/'config.json').write_text(json.dumps(c))
    (d/'configuration_evil.py').write_text(CONF.format(canary=str(canary)))
    (d/'modeling_evil.py').write_text(MODEL.format(canary=str(canary)))
    return d

def evil_run(registry, tmp_path, name:str, as_name:str) -> Path:
    "A copy of the smoke run `name` (under a name of its own: transformers caches imported code by directory name) whose tokenizer is marked pretrained and which plants code."
    run = tmp_path/as_name
    shutil.copytree(registry/'runs'/'smoke'/name, run)
    m = json.loads((run/'codelm_tokenizer.json').read_text()); m['kind'] = 'pretrained'
    (run/'codelm_tokenizer.json').write_text(json.dumps(m))  # load_tokenizer hands it to AutoTokenizer
    return plant(run, tmp_path/'CANARY')

def refused(r, cmd:str, d:Path, canary:Path):
    "Exit status 2, one line naming d/config.json, the field and the code it names, no prompt, and the planted code never ran."
    lines = r.stderr.strip().splitlines()
    assert not canary.exists(), f'the planted code ran: {canary} was written'
    assert 'Do you wish to run the custom code' not in r.stdout + r.stderr, r.stderr[-2000:]
    assert r.returncode == 2, f'exit status {r.returncode}, stderr:\n{r.stderr[-2000:]}'
    assert len(lines) == 1 and 'Traceback' not in r.stderr, r.stderr[-2000:]
    assert lines[0] == (f"codelm {cmd}: error: {d}/config.json: field 'auto_map' asks to run code from the model directory "
                        "(configuration_evil.py, modeling_evil.py); codelm does not run a checkpoint's code"), lines[0]

@pytest.fixture
def yes(monkeypatch):
    "`y` for every question on stdin, as `yes | codelm ...` would answer."
    monkeypatch.setattr(sys, 'stdin', io.StringIO(YES))

def test_humaneval_model_dir_with_code_is_refused(tmp_path):
    "The console script, `y` piped in: a transformers directory (a tiny GPT-2 from save_pretrained) with an auto_map is refused before it is read."
    from transformers import GPT2Config, GPT2LMHeadModel
    d = tmp_path/'evil_hub_model'
    GPT2LMHeadModel(GPT2Config(vocab_size=64, n_layer=1, n_head=2, n_embd=16, n_positions=64)).save_pretrained(d)
    plant(d, tmp_path/'CANARY')
    r = subprocess.run([CODELM, 'humaneval', str(d), '--limit', '1', '-n', '1', '--max-new-chars', '8', '--device', 'cpu'],
                       input=YES, capture_output=True, text=True, timeout=600, env={**os.environ, 'HF_HUB_OFFLINE': '1'})
    refused(r, 'humaneval', d, tmp_path/'CANARY')

@pytest.mark.parametrize('cmd', ['complete', 'fill', 'eval', 'tokenizers stats', 'train --pretrained'])
def test_run_with_code_is_refused(smoke_registry, tmp_path, yes, cmd):
    "A run whose tokenizer is marked pretrained and whose directory asks for code: every command that loads it refuses, `y` on stdin notwithstanding."
    from codelm.data import sample_corpus
    run = evil_run(smoke_registry, tmp_path, 'roberta' if cmd == 'fill' else 'gpt2', 'evil_' + cmd.replace(' ', '_').replace('-', ''))
    (run/'metrics.json').unlink()
    argv = dict(complete=['complete', run, '--prompt', 'def f(', '-n', '1', '--max-new-chars', '4'],
                fill=['fill', run, '--text', 'x = <mask>', '-k', '1'],
                eval=['eval', run, '--limit', '2'],
                **{'tokenizers stats': ['tokenizers', 'stats', '--corpus', sample_corpus(), '--tokenizers', run],
                   'train --pretrained': ['train', '--arch', 'gpt2', '--preset', 'smoke', '--corpus', sample_corpus(), '--out', tmp_path/'ft',
                                          '--pretrained', run, '--budget-mb', '0.02']})[cmd]
    r = codelm(*argv)
    refused(r, cmd.split()[0], run, tmp_path/'CANARY')  # `codelm tokenizers: error: ...`, as main names a command group
    assert not (run/'metrics.json').exists()

# point 8 (a): a transformer checkpoint with a tensor missing or one too many

@pytest.mark.parametrize('arch, change', [('gpt2', 'missing'), ('roberta', 'unexpected')])
def test_eval_refuses_checkpoint_with_wrong_tensors(smoke_registry, tmp_path, arch, change):
    "Was: loaded (a missing tensor filled with random values, an extra one skipped) and evaluated; now one line naming the file and the tensor, no metrics.json."
    from safetensors.torch import load_file, save_file
    (run,) = [copy_runs(smoke_registry, tmp_path, [arch])/arch]
    (run/'metrics.json').unlink()
    w = load_file(run/'model.safetensors')
    name = next(k for k in sorted(w) if '.0.' in k and k.endswith('.weight'))  # a weight of the first block
    if change == 'missing': del w[name]
    else: name = name.replace('.0.', '.7.'); w[name] = w[next(iter(sorted(w)))].clone()  # a block the model does not have
    save_file(w, run/'model.safetensors', metadata=dict(format='pt'))
    r = codelm('eval', run, '--limit', '2')
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 2 and len(lines) == 1, f'exit status {r.returncode}, stderr:\n{r.stderr[-2000:]}'
    assert lines[0] == f'codelm eval: error: {run}/model.safetensors: tensors do not match the {arch} model ({change} {name})', lines[0]
    assert not (run/'metrics.json').exists(), 'eval wrote metrics for a broken checkpoint'

# point 8 (b): convert never follows a symbolic link

def _legacy_awd(run:Path, dest:Path) -> Path:
    "An AWD run rewritten in the layout of runs trained before codelm.json: the record in config.json, the tokenizer in tokenizer/."
    shutil.copytree(run, dest)
    meta, mc = json.loads((dest/'codelm.json').read_text()), json.loads((dest/'config.json').read_text())
    (dest/'tokenizer').mkdir()
    for f in list(dest.iterdir()):
        if f.name in ('codelm_tokenizer.json', 'tokenizer.model', 'tokenizer.json', 'tokenizer_config.json'): f.rename(dest/'tokenizer'/f.name)
    meta.pop('layout'); (dest/'codelm.json').unlink()
    (dest/'config.json').write_text(json.dumps(dict(meta, model=dict(config=mc['config'], drop_mult=mc['drop_mult']))))
    return dest

@pytest.mark.parametrize('where', ['notes.txt', 'tokenizer/notes.txt'])
def test_convert_refuses_symlinks(smoke_registry, tmp_path, where):
    "Was: the content of a linked file outside the run (a stand-in for /etc/passwd) copied into the new run, which `push` uploads; now refused, the run as it was."
    secret = tmp_path/'passwd'; secret.write_text('root:x:0:0:codelm-canary-secret:/root:/bin/bash\n')
    old = _legacy_awd(smoke_registry/'runs'/'smoke'/'awd_lstm-char', tmp_path/'legacy')
    (old/where).symlink_to(secret)
    r = codelm('convert', old)
    lines = r.stderr.strip().splitlines()
    leaked = [p for p in old.rglob('*') if p.is_file() and not p.is_symlink() and b'codelm-canary-secret' in p.read_bytes()]
    assert not leaked, f'copied into the run: {leaked}'
    assert r.returncode == 2 and len(lines) == 1, f'exit status {r.returncode}, stderr:\n{r.stderr[-2000:]}'
    assert lines[0].startswith(f'codelm convert: error: {old/where}: a symbolic link (to {secret})'), lines[0]
    assert (old/where).is_symlink() and not (old/'codelm.json').exists()

# point 8 (c): `codelm run --corpus` is never a run or a place in the registry

@pytest.mark.parametrize('where', ['run', 'inside run', 'registry'])
def test_run_refuses_corpus_in_runs(tmp_path, monkeypatch, where):
    "Was: the corpus built inside the run directory (or the registry); now one line naming --corpus, nothing written."
    monkeypatch.chdir(tmp_path)
    src = tmp_path/'src'; src.mkdir()
    for i in range(3): (src/f'm{i}.py').write_text(f'def f{i}(x):\n    return x + {i}\n')
    run = tmp_path/'runs'/'smoke'/'gpt2'; run.mkdir(parents=True); (run/'codelm.json').write_text('{"arch": "gpt2"}')
    corpus = dict(run=run, **{'inside run': run/'corpus', 'registry': tmp_path/'runs'/'corpus'})[where]
    before = sorted(tmp_path.rglob('*'))
    r = codelm('run', '--preset', 'smoke', '--source', src, '--corpus', corpus, '--runs', tmp_path/'runs', '--report', tmp_path/'reports',
               '--only', 'gpt2', '--dry-run')
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 2 and len(lines) == 1, f'exit status {r.returncode}, stderr:\n{r.stderr[-2000:]}'
    assert lines[0].startswith(f'codelm run: error: --corpus {corpus}: '), lines[0]
    assert ('run directory' if where != 'registry' else 'run registry') in lines[0], lines[0]
    assert sorted(tmp_path.rglob('*')) == before, 'files were written'

# point 8 (d): an empty --out (--runs, --report) is not the current directory

@pytest.mark.parametrize('cmd, argv, flag', [
    ('train', ['--arch', 'awd_lstm', '--tokenizer', 'char', '--preset', 'smoke', '--corpus', '{nope}', '--out', ''], '--out'),
    ('corpus build', ['--source', '{nope}', '--out', ''], '--out'),
    ('tokenizers train', ['--corpus', '{nope}', '--kinds', 'char', '--out', ''], '--out'),
    ('run', ['--preset', 'huge', '--corpus', '{nope}', '--runs', '', '--dry-run'], '--runs'),
    ('run', ['--preset', 'huge', '--corpus', '{nope}', '--report', ''], '--report')])
def test_empty_out_is_refused(tmp_path, monkeypatch, cmd, argv, flag):
    "Was: `Path('')`, the current directory (or another error first); now refused as parsed, naming the flag, nothing written."
    monkeypatch.chdir(tmp_path)
    r = codelm(*cmd.split(), *[a.format(nope=tmp_path/'nope') for a in argv])
    assert r.returncode == 2, f'exit status {r.returncode}, stderr:\n{r.stderr[-2000:]}'
    assert r.stderr == f'codelm {cmd}: error: argument {flag}: expected a directory path, got an empty string (see codelm {cmd} --help)\n', r.stderr
    assert list(tmp_path.iterdir()) == []
