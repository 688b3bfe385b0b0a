#!/usr/bin/env python3
"""Check that the installed packages satisfy codelm's version bounds, and repair the one known clash.

PyPI's torchvision wheels are built against CUDA torch and fail to import beside a CPU torch
("operator torchvision::nms does not exist"); transformers then fails to import its pipelines.
codelm never uses torchvision (fastai lists it for fastai.vision), so a torchvision that cannot be
imported is uninstalled, and said so.
"""
import subprocess, sys, tomllib
from importlib.metadata import version, PackageNotFoundError
from pathlib import Path
from packaging.requirements import Requirement

root = Path(__file__).resolve().parent.parent
reqs = tomllib.loads((root/'pyproject.toml').read_text())['project']
reqs = reqs['dependencies'] + reqs['optional-dependencies']['dev']

def _imports(mod):
    return subprocess.run([sys.executable, '-c', f'import {mod}'], capture_output=True).returncode == 0

try:
    version('torchvision')
    if not _imports('torchvision'):
        print('setup: removing torchvision: its wheel does not match the installed torch '
              f"{version('torch')} (codelm does not use it; fastai needs it only for fastai.vision)")
        subprocess.run([sys.executable, '-m', 'pip', 'uninstall', '-q', '-y', 'torchvision'], check=True)
except PackageNotFoundError: pass

bad = []
for r in map(Requirement, reqs):
    try: v = version(r.name)
    except PackageNotFoundError: bad.append(f'{r.name}: not installed (need {r})'); continue
    if not r.specifier.contains(v, prereleases=True): bad.append(f'{r.name} {v} does not satisfy {r}')
if __import__('os').environ.get('CODELM_CPU_TORCH') == '1':
    cuda = subprocess.run([sys.executable, '-c', 'import torch; print(torch.version.cuda or "")'], capture_output=True, text=True).stdout.strip()
    if cuda: bad.append(f"torch {version('torch')} is a CUDA {cuda} build: setup installed the CPU build, and a later install replaced it "
                        '(a package pinning a newer torch?); the environment is several GB larger than it needs to be')
if bad: sys.exit('setup: dependency check failed:\n  ' + '\n  '.join(bad))
print('setup: dependencies OK: ' + ', '.join(f'{n} {version(n)}' for n in
      ('torch', 'fastai', 'transformers', 'tokenizers', 'sentencepiece', 'nbdev')))
