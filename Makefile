# Two commands do everything on a fresh machine: `make run` and `make test`.
VENV ?= .venv
PRESET ?= cpu
STAMP := $(VENV)/.codelm-installed

.PHONY: run test setup clean-venv

$(STAMP): pyproject.toml tools/setup_env.sh tools/check_env.py
	VENV=$(VENV) bash tools/setup_env.sh

setup: $(STAMP)

# until the main job lands: build the embedded corpus and print its statistics
run: $(STAMP)
	$(VENV)/bin/codelm corpus build --source stdlib --out corpus/stdlib

test: $(STAMP)
	$(VENV)/bin/python tools/test_all.py

clean-venv:
	rm -rf $(VENV)
