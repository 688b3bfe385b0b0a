"""The run directory as the Hugging Face ecosystem and codelm read it (issue 21, points 1-4): transformer runs are checkpoints that
AutoConfig / AutoModel* / AutoTokenizer / pipeline open offline and score like codelm; every family loads with `codelm.load_lm`;
runs of the earlier layout fail naming `codelm convert`, which converts them; a finished run fine-tunes into a new one; the
model card is written offline, and `codelm push` says why it cannot reach the hub."""
import json, math, shutil
import pytest, torch
from conftest import codelm, codelm_process, copy_runs
from codelm.data import sample_corpus

TEXT = 'def add(a, b):\n    return a + b\n'

@pytest.fixture(scope='module')
def runs(smoke_registry):
    "The smoke registry's runs (read only here: tests that change a run copy it)."
    return smoke_registry/'runs'/'smoke'

def test_gpt2_run_is_a_hub_checkpoint_with_codelms_logprobs(runs):
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer
    import codelm as C
    run = runs/'gpt2'
    assert AutoConfig.from_pretrained(run, local_files_only=True).model_type == 'gpt2'
    hf = AutoModelForCausalLM.from_pretrained(run, local_files_only=True, use_safetensors=True).eval()
    tok = AutoTokenizer.from_pretrained(run, local_files_only=True)
    lm = C.load_lm(run, device='cpu')
    ids = tok(TEXT)['input_ids']
    assert ids == lm.tokenizer.encode(TEXT)  # the same tokens
    x = torch.tensor([[lm.tokenizer.eos_id] + ids])  # codelm scores a function after eos, as it was packed in training
    with torch.no_grad(): lp = hf(x).logits[0, :-1].log_softmax(-1).gather(1, x[0, 1:, None]).squeeze(1)
    bits = -lp.sum().item() / math.log(2)
    assert abs(bits - lm.score(TEXT).bits) < 1e-3 * bits, (bits, lm.score(TEXT).bits)
    assert json.loads((run/'generation_config.json').read_text())['eos_token_id'] == lm.tokenizer.eos_id

def test_pipelines_open_runs_offline(runs):
    from transformers import pipeline
    gen = pipeline('text-generation', model=str(runs/'gpt2'), device='cpu')
    out = gen('def main():\n', max_new_tokens=8, do_sample=False)[0]['generated_text']
    assert out.startswith('def main():\n') and len(out) > len('def main():\n')
    for arch in ('roberta', 'bert'):
        fill = pipeline('fill-mask', model=str(runs/arch), device='cpu')
        got = fill(f'def add(a, b):\n    return a {fill.tokenizer.mask_token} b\n', top_k=3)
        assert len(got) == 3 and all(isinstance(g['token_str'], str) and 0 <= g['score'] <= 1 for g in got), got

def test_runs_say_their_context_and_pipelines_take_long_texts(runs):
    "Issue 34, point 6: a run's tokenizer_config.json says how many tokens the model can use, so long texts work in transformers."
    from transformers import pipeline
    import codelm as C
    long = ('def f(x):\n    return x + 1\n\n' * 100)[:2000]
    for arch in ('gpt2', 'bert', 'roberta'):
        lm = C.load_lm(runs/arch, device='cpu')
        want = lm.context if arch == 'gpt2' else lm.max_len  # a masked model's context keeps room for its lookahead masks
        assert json.loads((runs/arch/'tokenizer_config.json').read_text())['model_max_length'] == want, arch
    gen = pipeline('text-generation', model=str(runs/'gpt2'), device='cpu')
    out = gen(long, max_new_tokens=8, handle_long_generation='hole', do_sample=False, return_full_text=False)[0]['generated_text']
    assert isinstance(out, str)  # was: IndexError, index out of range (nothing said the model has few positions)
    fill = pipeline('fill-mask', model=str(runs/'roberta'), device='cpu')
    got = fill(f'x = {fill.tokenizer.mask_token}\n' + long, top_k=2, tokenizer_kwargs=dict(truncation=True))
    assert len(got) == 2

@pytest.mark.parametrize('name', ['awd_lstm-char', 'awd_qrnn-bpe', 'gpt2', 'bert', 'roberta'])
def test_load_lm_every_family(runs, name):
    import codelm as C
    lm = C.load_lm(runs/name, device='cpu')
    meta = json.loads((runs/name/'codelm.json').read_text())
    assert lm.family == meta['family'] and lm.score(TEXT).bits > 0

def _legacy(run, dest):
    "`run` rewritten in the layout of runs trained before codelm.json: the record in config.json, tokenizer/, `hf.`-prefixed weights."
    from codelm.rundir import save_weights, read_meta, model_config
    from codelm.transformer import TransformerLM, _hf_classes
    shutil.copytree(run, dest); meta, mc = read_meta(dest), model_config(dest)
    (dest/'tokenizer').mkdir()
    for f in dest.iterdir():
        if f.name in ('codelm_tokenizer.json', 'tokenizer.model', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json'): f.rename(dest/'tokenizer'/f.name)
    if meta['arch'] in ('gpt2', 'bert', 'roberta'):
        hf = _hf_classes(meta['arch'])[1].from_pretrained(str(run), local_files_only=True)
        save_weights(TransformerLM(hf, 1), dest/'model.safetensors')
        model = dict(hf_config=hf.config.to_dict(), pad_id=1)
        (dest/'generation_config.json').unlink(missing_ok=True)
    else: model = dict(config=mc['config'], drop_mult=mc['drop_mult'])
    meta.pop('layout'); (dest/'codelm.json').unlink()
    (dest/'config.json').write_text(json.dumps(dict(meta, model=model)))
    return dest

@pytest.mark.parametrize('name', ['gpt2', 'awd_lstm-char'])
def test_legacy_runs_name_convert_then_convert(runs, tmp_path, name):
    old = _legacy(runs/name, tmp_path/name)
    r = codelm('complete', old, '--prompt', 'x', '-n', 1)
    assert r.returncode == 2 and f'codelm convert {old}' in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    r = codelm_process('convert', old)  # the console script, in a new process
    assert r.returncode == 0 and 'converted' in r.stdout, r.stderr
    import codelm as C
    a, b = C.load_lm(runs/name, device='cpu').score(TEXT).bits, C.load_lm(old, device='cpu').score(TEXT).bits
    assert abs(a - b) < 1e-4 * a, (a, b)
    assert not (old/'tokenizer').exists() and json.loads((old/'codelm.json').read_text())['converted_from'].startswith('layout 1')
    r = codelm('convert', old)
    assert r.returncode == 2 and 'already of this layout' in r.stderr

def test_finished_runs_fine_tune(runs, tmp_path):
    for arch, src in (('gpt2', 'gpt2'), ('awd_qrnn', 'awd_qrnn-bpe')):
        out = tmp_path/f'ft_{arch}'
        r = codelm('train', '--arch', arch, '--tokenizer', 'bpe' if arch == 'awd_qrnn' else 'bytebpe', '--preset', 'smoke', '--corpus', sample_corpus(),
                   '--out', out, '--pretrained', runs/src, '--budget-mb', '0.02')
        assert r.returncode == 0, r.stderr
        meta = json.loads((out/'codelm.json').read_text())
        assert meta['freeze_epochs'] == 1 and meta['pretrained'] == str(runs/src) and meta['tokenizer_source']['source'] == f'run {runs/src}'
        assert (out/'tokenizer.json' if arch == 'gpt2' else out/'tokenizer.model').read_bytes() == (runs/src/(out/'tokenizer.json' if arch == 'gpt2' else out/'tokenizer.model').name).read_bytes()
    r = codelm('train', '--arch', 'bert', '--preset', 'smoke', '--corpus', sample_corpus(), '--out', tmp_path/'x', '--pretrained', runs/'gpt2')
    assert r.returncode == 2 and 'gpt2' in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr

def test_model_card_and_push_offline(runs, tmp_path, monkeypatch):
    (run,) = [copy_runs(runs.parent.parent, tmp_path, ['gpt2'])/'gpt2']
    r = codelm('card', run)
    assert r.returncode == 0, r.stderr
    card = (run/'README.md').read_text()
    meta, met = (json.loads((run/f).read_text()) for f in ('codelm.json', 'metrics.json'))
    assert card.startswith('---\nlibrary_name: transformers\n') and 'pipeline_tag: text-generation' in card
    assert f"{met['bpb']:.3f}" in card and meta['corpus_fingerprint'] in card and 'small budget' in card
    monkeypatch.setenv('HF_HUB_OFFLINE', '1')
    r = codelm('push', run, 'someone/codelm-gpt2')
    assert r.returncode == 2 and 'hub is unreachable' in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert codelm('push', run, 'no-owner').returncode == 2
    (run/'metrics.json').unlink()
    r = codelm('card', run)
    assert r.returncode == 2 and 'metrics.json: missing' in r.stderr and 'codelm eval' in r.stderr
    m = json.loads((run/'codelm.json').read_text()); del m['corpus_fingerprint']; (run/'codelm.json').write_text(json.dumps(m))
    (run/'metrics.json').write_text(json.dumps(met))
    r = codelm('card', run)
    assert r.returncode == 2 and 'codelm.json: missing corpus_fingerprint' in r.stderr

def test_convert_refuses_what_is_not_a_run(tmp_path):
    (tmp_path/'empty').mkdir()
    r = codelm('convert', tmp_path/'empty')
    assert r.returncode == 2 and 'not a codelm run directory' in r.stderr
