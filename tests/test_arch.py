"""Adding an architecture is one registry entry plus its model code (issue 22, point 2): a toy Llama, registered here and
nowhere else, is in the experiment's grid, trains, saves, loads, scores and samples through the same code as the paper's five."""
import pytest
from codelm.arch import ARCHS, register_arch, get_arch, arch_names

def llama_config(cls, s, vocab_size, ids):
    "The model code's one function: sizes -> a transformers LlamaConfig."
    return cls(vocab_size=vocab_size, hidden_size=s['d_model'], num_hidden_layers=s['n_layers'], num_attention_heads=s['n_heads'],
               intermediate_size=s['d_ff'], max_position_embeddings=s['ctx'], **ids)

@pytest.fixture
def toy():
    tiny = dict(n_layers=2, d_model=32, n_heads=2, d_ff=64, ctx=64, bs=8)
    gpt2 = get_arch('gpt2')  # built, trained and loaded as GPT-2 is: the same learner and loader
    register_arch('llama', family='causal', code='transformer', tokenizers=('bytebpe',), model=('LlamaConfig', 'LlamaForCausalLM'),
                  config=llama_config, groups=(('model.embed_tokens',), 'model.layers'), sizes=dict(smoke=tiny),
                  learner=gpt2.learner, loader=gpt2.loader)
    yield get_arch('llama')
    del ARCHS['llama']

def test_a_toy_architecture_is_one_entry(toy, tmp_path):
    from codelm.data import sample_corpus
    from codelm.train import train_run
    from codelm.inference import load_lm
    from codelm.experiment import select_runs
    assert 'llama' in arch_names(family='causal', code='transformer')
    assert select_runs('llama') == [('llama', 'llama', None)]
    cfg = train_run('llama', None, sample_corpus(), tmp_path/'llama', 'smoke', quiet=True)
    assert (cfg['status'], cfg['family'], cfg['tokenizer']) == ('finished', 'causal', 'bytebpe')
    assert cfg['final']['bpb'] > 0
    lm = load_lm(tmp_path/'llama')
    assert type(lm).__name__ == 'TransformerCausalLM' and lm.context == 64 and lm.hf.config.model_type == 'llama'
    s = lm.score('def f(x):\n    return x\n')
    assert 0 < s.bpb < 30 and abs(sum(b for _, b in s.tokens) - s.bits) < 1e-6
    assert len(lm.generate('def ', n=2, max_new_chars=10, seed=0)) == 2

def test_unknown_architectures_are_refused_with_the_registered_ones():
    from codelm.train import check_run_args, RunError
    from codelm.data import sample_corpus
    with pytest.raises(RunError, match='--arch llama: expected one of awd_lstm, awd_qrnn, gpt2, bert, roberta'):
        check_run_args('llama', None, 'smoke', sample_corpus())
