#!/usr/bin/env python3
"""Check that the installed packages satisfy codelm's version bounds, and repair the one known clash.

PyPI's torchvision wheels are built against CUDA torch and fail to import beside a CPU torch
("operator torchvision::nms does not exist"); transformers then fails to import its pipelines.
codelm never uses torchvision (fastai lists it for fastai.vision), so a torchvision that cannot be
imported is uninstalled, and said so.
"""
import re, subprocess, sys
from importlib.metadata import version, PackageNotFoundError
from pathlib import Path
from packaging.requirements import Requirement

EXTRAS = ('dev', 'explore')   # what tools/setup_env.sh installs: pip install -e '.[dev,explore]'

def _string_array(text:str, key:str) -> list[str]:
    "The strings of the TOML array `key = [...]` in `text` (one table's text); comments and trailing commas allowed."
    m = re.search(rf'^{re.escape(key)}\s*=\s*\[', text, re.M)
    if not m: raise SystemExit(f'setup: pyproject.toml: no array {key!r}')
    items, i = [], m.end()
    tok = re.compile(r'\s+|#[^\n]*|,|"((?:[^"\\]|\\.)*)"|\'([^\']*)\'|\]')
    while True:
        t = tok.match(text, i)
        if not t: raise SystemExit(f'setup: pyproject.toml: array {key!r}: expected strings, got {text[i:i + 30]!r}')
        i = t.end()
        if t.group(0) == ']': return items
        if t.group(1) is not None: items.append(re.sub(r'\\(.)', r'\1', t.group(1)))   # a basic string: \" and \\ (no \n, \u in a requirement)
        elif t.group(2) is not None: items.append(t.group(2))

def _table(text:str, name:str) -> str:
    "The text of TOML table `[name]`, up to the next table header."
    m = re.search(rf'^\[{re.escape(name)}\]\s*$(.*?)(?=^\[|\Z)', text, re.M | re.S)
    if not m: raise SystemExit(f'setup: pyproject.toml: no table [{name}]')
    return m.group(1)

def requirements(text:str) -> list[str]:
    "codelm's dependencies and the extras set-up installs, read from pyproject.toml's text (tomllib, tomli, or the two tables by hand on Python 3.10)."
    try: import tomllib                  # Python 3.11+
    except ModuleNotFoundError:
        try: import tomli as tomllib     # the backport, where installed
        except ModuleNotFoundError: tomllib = None
    if tomllib is not None:
        p = tomllib.loads(text)['project']
        return p['dependencies'] + [r for e in EXTRAS for r in p['optional-dependencies'][e]]
    extras = _table(text, 'project.optional-dependencies')
    return _string_array(_table(text, 'project'), 'dependencies') + [r for e in EXTRAS for r in _string_array(extras, e)]

ROOT = Path(__file__).resolve().parent.parent

def _imports(mod):
    return subprocess.run([sys.executable, '-c', f'import {mod}'], capture_output=True).returncode == 0

def main():
    "Repair torchvision if needed, then check every requirement's bound; exit non-zero naming each one that fails."
    reqs = requirements((ROOT/'pyproject.toml').read_text())
    try:
        version('torchvision')
        if not _imports('torchvision'):
            print('setup: removing torchvision: its wheel does not match the installed torch '
                  f"{version('torch')} (codelm does not use it; fastai needs it only for fastai.vision)")
            subprocess.run([sys.executable, '-m', 'pip', 'uninstall', '-q', '-y', 'torchvision'], check=True)
    except PackageNotFoundError: pass

    bad = []
    for r in map(Requirement, reqs):
        if r.marker and not r.marker.evaluate(): continue  # e.g. triton, only where a wheel exists
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

if __name__ == '__main__': main()
