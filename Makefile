# ai2text: `make run` starts the platform on its embedded defaults, `make test` runs the tests.
# Both create .venv/ when missing and install into it: torch (CPU wheel) first, then the project
# with its extras, under constraints.txt. A stamp keyed on the hash of pyproject.toml and
# constraints.txt makes a second call with nothing changed skip the install.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEPS_HASH := $(shell cat pyproject.toml constraints.txt | sha256sum | cut -c1-16)
STAMP := $(VENV)/.installed-$(DEPS_HASH)
PYTEST_ARGS ?=

.PHONY: setup run test lint typecheck check bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip wheel
	$(BIN)/python -m pip install --quiet torch==2.13.0 -c constraints.txt
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[asr,train,serve,operator,dev]'
	rm -f $(VENV)/.installed-*
	touch $@

run: setup
	$(BIN)/ai2text models bootstrap
	-$(BIN)/ai2text doctor
	$(BIN)/ai2text serve

test: setup
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: setup
	$(BIN)/mypy

check: lint typecheck test

bench: setup
	$(BIN)/ai2text bench bus

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
