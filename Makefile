# Two commands do everything on a fresh machine: `make run` and `make test`.
VENV ?= .venv
PRESET ?= cpu
STAMP := $(VENV)/.codelm-installed

.PHONY: run test setup clean-venv

$(STAMP): pyproject.toml tools/setup_env.sh tools/check_env.py
	VENV=$(VENV) bash tools/setup_env.sh

setup: $(STAMP)

# the main job: the paper's grid on the embedded corpus, evaluated, with reports/index.html
run: $(STAMP)
	$(VENV)/bin/codelm run --preset $(PRESET)

test: $(STAMP)
	$(VENV)/bin/python tools/test_all.py

clean-venv:
	rm -rf $(VENV)
