"""The Triton forget-mult kernels against the reference, run by Triton's interpreter on the CPU (TRITON_INTERPRET=1).

Needs a subprocess, since the interpreter is chosen when Triton is first imported. Where pyproject.toml's `dev` extra
installs Triton (Linux on x86_64 or aarch64, where wheels exist) a missing Triton fails the test instead of skipping it;
elsewhere (no wheel: macOS, Windows) it is skipped. On a GPU, nbs/02_qrnn.ipynb's `cuda` cell tests the compiled kernels.
"""
import importlib.util, json, os, subprocess, sys, textwrap
from pathlib import Path
import pytest
from packaging.requirements import Requirement
try: import tomllib                                      # Python 3.11+
except ModuleNotFoundError:                              # Python 3.10: the backport, or pip's copy of it
    try: import tomli as tomllib
    except ModuleNotFoundError: from pip._vendor import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent

# Every case: forward and backward (f, x and, with an initial state, h0) of the kernels against `forget_mult_ref`'s
# autograd in float32 on the same values; with h0 the gates are strided views of one (batch, seq, 3*hidden) tensor (the
# kernels take them without a copy), without h0 contiguous tensors, as sigmoid and tanh return them. Sizes are odd, with
# sequence length 1 (no step reads the previous output) and hidden sizes across one block of 128 and past it (masked lanes).
# bfloat16 inputs go through the kernels as bfloat16 and the reference gets them upcast to float32; one bfloat16 rounding
# of each result is 2**-8 (2**-7 truncated, as the interpreter converts) of its size, so the error allowed is 2% of the
# largest value of each tensor; float32 must agree within 1e-5.
SCRIPT = textwrap.dedent('''
    import json, os, torch
    assert os.environ.get('TRITON_INTERPRET') == '1'
    from codelm.qrnn import forget_mult, forget_mult_ref
    def grads(fm, f, x, h0, dout):
        f, x = f.detach().requires_grad_(), x.detach().requires_grad_()  # leaves sharing the inputs' memory and strides
        h0 = None if h0 is None else h0.detach().requires_grad_()
        out = fm(f, x, h0)
        out.backward(dout.to(out.dtype))
        return dict(out=out, df=f.grad, dx=x.grad, **({} if h0 is None else dict(dh0=h0.grad)))
    for dtype in ('float32', 'bfloat16'):
        for h0b in (True, False):
            for bs, sl, nh in [(3, 1, 5), (3, 7, 5), (2, 9, 130), (1, 33, 257)]:
                g = torch.Generator().manual_seed(sl)
                y = torch.randn(bs, sl, 3 * nh, generator=g).to(getattr(torch, dtype))
                y[..., :nh].sigmoid_(); y[..., nh:2 * nh].tanh_()
                f, x = y[..., :nh], y[..., nh:2 * nh]
                if not h0b: f, x = f.contiguous(), x.contiguous()
                assert f.is_contiguous() != h0b
                h0 = torch.randn(bs, nh, generator=g).to(f.dtype) if h0b else None
                dout = torch.randn(bs, sl, nh, generator=g).to(f.dtype)
                ref = grads(forget_mult_ref, f.float(), x.float(), None if h0 is None else h0.float(), dout.float())
                tri = grads(lambda f, x, h0: forget_mult(f, x, h0, impl='triton'), f, x, h0, dout)
                for k, r in ref.items():
                    t = tri[k]
                    print(json.dumps(dict(case=f'{dtype} h0={h0b} {bs}x{sl}x{nh} {k}', dtype=str(t.dtype).split('.')[-1],
                                          err=(t.float() - r).abs().max().item(), scale=r.abs().max().item())))
''')

def triton_required() -> bool:
    "True where pyproject.toml's `dev` extra installs Triton (its environment marker holds on this machine)."
    dev = tomllib.loads((ROOT/'pyproject.toml').read_text())['project']['optional-dependencies']['dev']
    req = [r for r in map(Requirement, dev) if r.name == 'triton']
    assert req, "pyproject.toml: the `dev` extra lists no triton"
    return req[0].marker is None or req[0].marker.evaluate()

def test_triton_kernels_interpreted():
    if importlib.util.find_spec('triton') is None:
        if triton_required():
            pytest.fail("triton is not installed, but a wheel exists for this platform and the `dev` extra lists it: "
                        "install it with `.venv/bin/pip install -e '.[dev]'` (or `make test`, which sets up the environment)")
        pytest.skip('no Triton wheel for this platform')
    env = dict(os.environ, TRITON_INTERPRET='1')
    r = subprocess.run([sys.executable, '-c', SCRIPT], capture_output=True, text=True, env=env, timeout=600, cwd=ROOT)
    if r.returncode and 'only 0-dimensional arrays can be converted' in r.stderr:
        pytest.fail("this Triton's interpreter calls int() on a 1-element numpy array, which numpy >= 2.4 refuses "
                    "(triton-lang/triton#9171, fixed in Triton 3.7): upgrade Triton, or use numpy < 2.4\n" + r.stderr[-2000:])
    assert r.returncode == 0, r.stdout + r.stderr
    res = [json.loads(l) for l in r.stdout.splitlines() if l.startswith('{')]
    assert len(res) == 2 * (4 + 3) * 4, r.stdout  # dtypes x (4 cases with h0 + 3 without) x shapes
    bad = []
    for c in res:
        want = c['case'].split()[0]
        if c['dtype'] != want: bad.append(f"{c['case']}: result in {c['dtype']}, expected {want}")
        tol = 1e-5 if want == 'float32' else 2e-2 * c['scale']
        if not c['err'] <= tol: bad.append(f"{c['case']}: max abs difference {c['err']:.3g} > {tol:.3g}")
    assert not bad, '\n'.join(bad)
