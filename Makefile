# The two fresh-machine commands (see README):
#   make demo   - set up and run `resonanz demo` on the embedded default (SQLite, demo data, offline model)
#   make test   - set up and run the whole test suite, with ruff and mypy
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test setup setup-dev system lint typecheck pytest bench clean messages

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e ".[dev]"
	touch $(STAMP)

setup: $(STAMP)

system:
	bash scripts/setup-system.sh

demo: setup
	$(BIN)/resonanz demo

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: setup
	$(BIN)/mypy collectors nlp linker store resonanz

# Two test processes (pytest-xdist): about half the wall time on two cores, as many tests wait on servers,
# browsers and subprocesses. Tests are handed out one by one (--dist load): the file-wise modes key tests by node
# id and would run only one of schemathesis' 36 generated tests, which share one id. So no test may rely on another
# having run first in its process. TEST_WORKERS=0 runs everything in this process.
TEST_WORKERS ?= 2
pytest: setup
	$(BIN)/pytest -q -n $(TEST_WORKERS) --dist load

test: system setup lint typecheck pytest

bench: setup
	$(BIN)/python -m bench

# Refresh the German catalogue from the sources (babel.cfg): new texts arrive with an empty msgstr, which
# tests/web/test_i18n.py reports until they are translated. The .po is the only catalogue (no .mo is kept).
messages: setup
	$(BIN)/pybabel extract -F babel.cfg -k N_ --no-location --sort-output --omit-header \
		-o resonanz/locale/messages.pot resonanz
	$(BIN)/pybabel update -i resonanz/locale/messages.pot -d resonanz/locale -l de -D messages \
		--no-wrap --ignore-obsolete
	rm resonanz/locale/messages.pot

clean:
	rm -rf $(VENV) build *.egg-info .mypy_cache .ruff_cache .pytest_cache
