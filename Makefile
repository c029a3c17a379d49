# zclib: the two commands are `make reproduce` and `make test`; both build .venv first.
PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
KERNEL := zclib

.PHONY: help env data test test-slow smoke reproduce bench verify-scores lint clean-env

help:  ## list targets
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN{FS=":.*?## "}{printf "  %-14s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -qq --upgrade pip
	$(PY) -m pip install -qq -e '.[dev]'
	$(PY) -m ipykernel install --sys-prefix --name $(KERNEL) --display-name "Python (zclib)" >/dev/null
	touch $(STAMP)

env: $(STAMP)  ## build .venv (Python 3.11, zclib editable, Jupyter kernel "zclib")

data: $(STAMP)  ## report which images and benchmark tables are found, and where
	$(PY) -m zclib data

test: $(STAMP)  ## fast test tier (CPU, minutes), incl. notebook smoke runs
	$(PY) -m pytest -q

test-slow: $(STAMP)  ## slow checks (correlations on 1,000 archs, workers)
	$(PY) -m pytest -q -m slow

smoke: $(STAMP)  ## run every notebook at a tiny size into results/smoke/
	$(PY) -m zclib notebooks --smoke --results-dir results/smoke

reproduce: $(STAMP)  ## run every notebook at its default size; outputs under results/
	$(PY) -m zclib notebooks

bench: $(STAMP)  ## speed benchmark (fused vs naive, CPU) -> results/bench/
	$(PY) -m zclib speed --dataset cifar10 --n 20 --batch-size 64 --device cpu --out results/bench/cpu_cifar10_b64.json

verify-scores: $(STAMP)  ## recompute a sample of the shipped scores on CPU and compare
	$(PY) -m zclib verify-scores --n 20

lint: $(STAMP)  ## ruff
	$(VENV)/bin/ruff check zclib tests

clean-env:  ## remove .venv
	rm -rf $(VENV)
