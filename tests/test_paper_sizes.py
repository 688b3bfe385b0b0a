"""The `paper` preset's models at their full size, on CPU: parameter counts against the published ones, then two optimizer
steps or more each through `train_run` with the paper's batch sizes (reached by gradient accumulation), a checkpoint and a resume.

Nothing here downloads: the transformers are built from their configs (the hub's sizes), the AWD models from
`codelm.awd.awd_sizes('paper')` (the architectures' entries in `codelm.arch`). A short context and a tiny byte budget keep each step to a second or two."""
import json
import pytest, torch
from codelm.awd import awd_sizes
from codelm.transformer import transformer_config, transformer_sizes, _hf_classes
from codelm.tokenization import DEFAULT_VOCAB

def n_params(m) -> int: return sum(p.numel() for p in m.parameters())  # shared (tied) tensors once

# the model cards' figures: GPT-2 small, bert-base-cased and roberta-base (the base models, with BERT's and RoBERTa's pooler)
PUBLISHED = dict(gpt2=(50257, 124_439_808), bert=(28996, 108_310_272), roberta=(50265, 124_645_632))

@pytest.mark.parametrize('arch', list(PUBLISHED))
def test_transformer_parameter_counts(arch):
    vocab, published = PUBLISHED[arch]
    cfg = transformer_config(arch, 'paper', vocab_size=vocab, pad_id=0 if arch == 'bert' else 1)
    with torch.device('meta'): m = _hf_classes(arch)[1](cfg)
    d = cfg.hidden_size if arch != 'gpt2' else cfg.n_embd
    pooler = 0 if arch == 'gpt2' else d * d + d  # the masked-LM models have no pooler; the published counts include it
    assert n_params(m.base_model) + pooler == published

def awd_count(arch, vocab, emb, hid, layers) -> int:
    "AWD parameters by hand: tied embedding and decoder (plus its bias), and each recurrent layer's weights and biases."
    n = vocab * emb + vocab
    for l in range(layers):
        n_in, n_out = (emb if l == 0 else hid), (hid if l < layers - 1 else emb)
        if arch == 'awd_lstm': n += 4 * n_out * (n_in + n_out) + 8 * n_out   # W_ih, W_hh, b_ih, b_hh
        else: n += (2 if l == 0 else 1) * n_in * 3 * n_out + 3 * n_out       # QRNN gates z, f, o over a window of 2 then 1
    return n

@pytest.mark.parametrize('arch', ['awd_lstm', 'awd_qrnn'])
def test_awd_parameter_counts(arch):
    from fastai.text.models.core import get_language_model
    from codelm.awd import awd_arch, awd_config
    s = awd_sizes('paper')
    assert (s['emb_sz'], s['n_hid'], s['n_layers']) == (400, 1152, 3)  # the paper's (fastai's defaults)
    vocab = DEFAULT_VOCAB['paper']['bpe']
    assert vocab == 600
    with torch.device('meta'):
        m = get_language_model(awd_arch(arch), vocab, config=awd_config(awd_arch(arch), s['emb_sz'], s['n_hid'], s['n_layers']))
    assert n_params(m) == awd_count(arch, vocab, 400, 1152, 3)

# tokenizer, micro-batch; RoBERTa takes BERT's path (the masked loader, the same transformers code) and is counted above
STEP = dict(awd_lstm=('bpe', 8), awd_qrnn=('bpe', 8), gpt2=(None, 1), bert=(None, 4))

@pytest.mark.parametrize('arch', list(STEP))
def test_paper_preset_steps_at_full_size(arch, tmp_path, monkeypatch):
    from codelm.data import sample_corpus
    from codelm.train import train_run, run_hparams, read_history
    from codelm.train import TRAIN_PRESETS
    # the paper's validation (5 MB, 20 curve points) would cost minutes at full size on a CPU: one KB (a function or two), two points
    monkeypatch.setitem(TRAIN_PRESETS['paper'], 'valid_mb', 0.001); monkeypatch.setitem(TRAIN_PRESETS['paper'], 'curve_points', 2)
    kind, micro = STEP[arch]
    bs = run_hparams('paper', arch)['bs'] or transformer_sizes(arch, 'paper')['bs']
    seq = 16
    # a budget of a few optimizer steps per epoch (at least two): bs x seq tokens each, at 0.3 to 0.5 tokens per byte for these tokenizers
    budget = (5 if arch.startswith("awd_") else 3) * bs * seq / 1e6  # the AWD models: 5, to make a full batch of 64
    # the AWD models are also killed and resumed at full size; the transformers take one epoch (their resume is tested at
    # smoke size, and each full-size transformer epoch costs about 30 s on two cores)
    resume = arch.startswith('awd_'); epochs = 2 if resume else 1
    args = dict(tokenizers_dir=tmp_path/'toks', quiet=True, epochs=epochs, budget_mb=budget, seq_len=seq, micro_bs=micro)
    out = tmp_path/'run'
    if resume:
        monkeypatch.setenv('CODELM_FAIL_AT', '0:e1')  # dies as the second epoch starts, after the first epoch's checkpoint
        with pytest.raises(RuntimeError, match='CODELM_FAIL_AT'): train_run(arch, kind, sample_corpus(), out, 'paper', **args)
        assert (out/'checkpoint.safetensors').exists()
        monkeypatch.delenv('CODELM_FAIL_AT')
    cfg = train_run(arch, kind, sample_corpus(), out, 'paper', **args)  # resumes from the checkpoint
    assert cfg['status'] == 'finished' and not (out/'checkpoint.safetensors').exists()
    assert cfg['bs'] == bs and cfg['seq_len'] == seq
    if arch.startswith('awd_'): assert cfg['params'] == awd_count(arch, cfg['tokenizer_vocab_size'], 400, 1152, 3)
    else: assert cfg['params'] - cfg['tokenizer_vocab_size'] * 768 > 80e6, cfg['params']  # the full-size body, whatever the vocabulary
    h = read_history(out/'history.csv')
    ep = h[h['row'] == 'epoch']
    assert list(ep['epoch']) == list(range(epochs)) and ep['step'].iloc[-1] >= 2
    assert all(v == v and v < 20 for v in ep['valid_loss'])  # finite
