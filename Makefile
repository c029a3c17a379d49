# zclib: the two commands are `make reproduce` and `make test`; both build .venv first.
PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
KERNEL := zclib
NB_DIR := notebooks
SMOKE  ?= 0

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

test: $(STAMP)  ## fast test tier (CPU, a few minutes), incl. notebook smoke runs
	$(PY) -m pytest -q

test-slow: $(STAMP)  ## slow checks: correlations vs published values on 1,000 archs
	$(PY) -m pytest -q -m slow

lint: $(STAMP)  ## ruff
	$(VENV)/bin/ruff check zclib tests

clean-env:  ## remove .venv
	rm -rf $(VENV)
