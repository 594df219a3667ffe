# The two commands of the README:
#   make demo   set up (first run) and run the main job
#   make test   set up (first run, system packages included: scripts/system-deps.sh) and run the whole test suite
# Everything else is a building block of those two.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip --disable-pip-version-check -q

.PHONY: demo test lint typecheck unit docs clean system-deps

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Re-install whenever pyproject.toml changes.
$(VENV)/.installed-app: pyproject.toml | $(BIN)/python
	$(PIP) install -e .
	@touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(PIP) install -e '.[dev]'
	@touch $@ $(VENV)/.installed-app

demo: $(VENV)/.installed-app
	$(BIN)/cityscore demo

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check src tests scripts bench

typecheck: $(VENV)/.installed-dev
	$(BIN)/mypy

system-deps:
	bash scripts/system-deps.sh

unit: $(VENV)/.installed-dev system-deps
	$(BIN)/pytest

test: lint typecheck unit

docs: $(VENV)/.installed-dev
	$(BIN)/python scripts/gen_docs.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
