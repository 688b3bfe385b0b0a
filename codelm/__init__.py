__version__ = "0.1.0"

def __getattr__(name):
    "`codelm.load_lm(run)`: imported on first use, so that `import codelm` stays light."
    if name == 'load_lm':
        from .inference import load_lm
        return load_lm
    raise AttributeError(f"module 'codelm' has no attribute {name!r}")
