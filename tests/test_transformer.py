"The transformer learners through the training recipe of `codelm.train` (a module below them in the flow): fit, history, exact resume."
import math
from pathlib import Path
import pytest, torch
from codelm.data import sample_corpus, read_split
from codelm.tokenization import train_tokenizer
from codelm.transformer import transformer_learner, transformer_splitter, save_transformer, load_transformer
from codelm.train import fit_recipe

torch.set_num_threads(1)  # tiny models: one thread is fastest on a shared machine

@pytest.fixture(scope='module')
def data():
    c = sample_corpus()
    texts = dict(train=[r['code'] for r in read_split(c, 'train')][:40], valid=[r['code'] for r in read_split(c, 'valid')][:20])
    return texts, dict(gpt2=train_tokenizer('bytebpe', c, 400), roberta=train_tokenizer('bytebpe', c, 400),
                       bert=train_tokenizer('wordpiece', c, 400))

def learner(arch, data, **kw):
    texts, toks = data
    return transformer_learner(arch, toks[arch], texts, 'smoke', bs=8, seq_len=32, seed=0, **kw)

def weights(learn): return {k: v.detach().clone() for k, v in learn.model.state_dict().items()}

@pytest.mark.parametrize('arch', ['gpt2', 'bert', 'roberta'])
def test_fit_recipe_history_and_exact_resume(arch, data, tmp_path, monkeypatch):
    monkeypatch.setenv('CODELM_NO_BAR', '1')
    full = learner(arch, data)
    st = fit_recipe(full, tmp_path/'a.safetensors', epochs=2, freeze_epochs=1, lr=3e-3, seed=0,
                    tokens_per_byte=full.tokens_per_byte)
    h = st['history']
    assert [r['phase'] for r in h] == ['frozen', 'unfrozen', 'unfrozen']
    assert all(math.isfinite(r['valid_loss']) and 0 <= r['accuracy'] <= 1 for r in h)
    assert (h[-1]['bpb'] is not None) == (arch == 'gpt2')  # bits per byte for the causal model only
    part = learner(arch, data)
    fit_recipe(part, tmp_path/'b.safetensors', epochs=2, freeze_epochs=1, lr=3e-3, seed=0, stop_after=2)  # killed after 2 of 3 epochs
    resumed = learner(arch, data)
    st2 = fit_recipe(resumed, tmp_path/'b.safetensors', epochs=2, freeze_epochs=1, lr=3e-3, seed=0)
    a, b = weights(full), weights(resumed)
    assert all(torch.equal(a[k], b[k]) for k in a), 'a resumed run must end with the same weights'
    assert [r['valid_loss'] for r in st2['history']] == [r['valid_loss'] for r in h]

def test_trained_model_saves_and_reloads(data, tmp_path):
    learn = learner('gpt2', data)
    learn.fit(1, 1e-3)
    save_transformer(learn.model, tmp_path/'m', learn.tok)
    assert not list((tmp_path/'m').rglob('*.bin'))
    hf, tok = load_transformer(tmp_path/'m')
    x = learn.dls.valid.one_batch()[0][:2]
    learn.model.eval(); hf.eval()
    with torch.no_grad(): assert torch.allclose(learn.model(x), hf(input_ids=x).logits, atol=1e-5)
    assert tok.vocab == learn.tok.vocab

def test_recipe_finds_its_learning_rate(data, tmp_path, monkeypatch):
    monkeypatch.setenv('CODELM_NO_BAR', '1')
    learn = learner('roberta', data)
    st = fit_recipe(learn, tmp_path/'c.safetensors', epochs=1, freeze_epochs=1, seed=0)
    assert 1e-7 < st['lr_find'] < 10 and st['lr'] == st['lr_find']
    assert len(st['history']) == 2
