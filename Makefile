# Two entry points (see README): `make run` and `make test`. Both build .venv when it is missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck unit bench clean web-catalogues catalogues

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

# The main job: a local devnet of three dev nodes (Ctrl-C stops it).
run: $(STAMP)
	$(BIN)/juned devnet

# The whole test suite: lint, type check, then every test.
test: lint typecheck unit

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest

bench: $(STAMP)
	@for b in bench/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

# The web interface's catalogues (docs/web.md): extract the strings, merge them into each .po
# (translate the new ones), compile the .mo files the node reads. Both are committed.
WEB_LOCALE := node/web/locale
web-catalogues: $(STAMP)
	$(BIN)/pybabel extract -F node/web/babel.cfg -k _ --no-location --omit-header -o $(WEB_LOCALE)/june-web.pot node/web
	$(BIN)/pybabel update -D june-web -i $(WEB_LOCALE)/june-web.pot -d $(WEB_LOCALE) --no-fuzzy-matching
	$(BIN)/pybabel compile -D june-web -d $(WEB_LOCALE) --statistics

# The wallet's catalogues (docs/wallet.md): the same steps for `june`'s strings (wallet/i18n.py).
WALLET_LOCALE := wallet/locale
catalogues: $(STAMP)
	$(BIN)/pybabel extract -k _ -k N_ -k ngettext:1,2 -k Nn_:1,2 --no-location --omit-header --sort-output -o $(WALLET_LOCALE)/june.pot wallet
	$(BIN)/pybabel update -D june -i $(WALLET_LOCALE)/june.pot -d $(WALLET_LOCALE) --no-fuzzy-matching
	$(BIN)/pybabel compile -D june -d $(WALLET_LOCALE) --statistics

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache .hypothesis
