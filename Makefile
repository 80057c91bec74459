# The two commands a user needs: `make run` and `make test`. Both create .venv on first use.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run migrate test test-fast lint bench client docs

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/python -m app.launch

migrate: install
	$(BIN)/alembic upgrade head

test: install
	$(BIN)/python -m pytest

test-fast: install
	$(BIN)/python -m pytest -m "not slow"

lint: install
	$(BIN)/ruff check .
	$(BIN)/lint-imports

bench: install
	$(BIN)/python bench/paper_table.py --seeds 3

client: install
	$(BIN)/python clients/generate.py

# The manual's site (docs/, mkdocs.yml): the configuration page regenerated from the settings, then built offline.
docs: install
	$(BIN)/python -m app.config_reference
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict
