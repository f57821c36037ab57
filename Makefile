# The whole reproduction from a clean clone: `make test`, `make figures`.
# Every target bootstraps its own virtual environment in .venv.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: test bench lint venv clean
.DELETE_ON_ERROR:

venv: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

test: $(STAMP)
	$(BIN)/ruff check ising_rg tests
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/ising-rg bench --json

lint: $(STAMP)
	$(BIN)/ruff check ising_rg tests

clean:
	rm -rf $(VENV) .pytest_cache
