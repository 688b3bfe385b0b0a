# Two commands do everything on a fresh machine: `make run` and `make test`.
VENV ?= .venv
PRESET ?= cpu
# the stamp is named by the content of what set-up reads, not its mtime: nbdev-export rewrites pyproject.toml unchanged
STAMP := $(VENV)/.codelm-installed-$(shell cat pyproject.toml tools/setup_env.sh tools/check_env.py | cksum | cut -d' ' -f1)

.PHONY: run test setup docs readme clean-venv

$(STAMP):
	VENV=$(VENV) bash tools/setup_env.sh
	rm -f $(VENV)/.codelm-installed* && touch $@

setup: $(STAMP)

# the main job: the paper's grid on the embedded corpus, evaluated, with reports/index.html
run: $(STAMP)
	$(VENV)/bin/codelm run --preset $(PRESET)

test: $(STAMP)
	$(VENV)/bin/python tools/test_all.py

# the documentation site, offline, from the notebooks (nbconvert; no Quarto): _docs/index.html
docs: $(STAMP)
	$(VENV)/bin/python tools/docs.py

# README.md from nbs/index.ipynb (tests/test_readme.py fails when they disagree)
readme: $(STAMP)
	$(VENV)/bin/python tools/readme.py

clean-venv:
	rm -rf $(VENV)
