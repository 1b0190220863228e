# Assay: two-command quick start. `make demo` and `make test` install what they need.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
ARGS   ?=

.PHONY: demo test lint typecheck unit bench models clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Assay needs Python 3.11 or newer: set PYTHON=python3.11")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.demo-installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[postgres,web,ml,reports,demo]'
	@touch $@

$(VENV)/.test-installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev,postgres,web,ml,reports,demo]'
	@touch $@ $(VENV)/.demo-installed

demo: $(VENV)/.demo-installed
	$(BIN)/assay demo $(ARGS)

test: $(VENV)/.test-installed
	$(BIN)/ruff check .
	$(BIN)/mypy --strict src/assay
	$(BIN)/pytest

bench: $(VENV)/.test-installed
	$(BIN)/python bench/ledger.py

models: $(VENV)/.test-installed
	$(BIN)/pip install --quiet -e '.[ml]'
	$(BIN)/python -m training.train_classifiers
	$(BIN)/python -m training.injection_direct
	$(BIN)/python -m training.train_embedding_heads

clean:
	rm -rf $(VENV) .assay .pytest_cache .mypy_cache .ruff_cache
