# The two commands a newcomer needs: `make demo` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
DEMO_DB ?= ./demo.db
DEMO_URL := sqlite:///$(DEMO_DB)
# A random signing key made once for this checkout (gitignored), so the demo never serves
# on the published development key.
DEMO_SECRET_FILE ?= .demo-secret
# Test processes (pytest-xdist). Every test copies its own database, so they never share state.
TEST_WORKERS ?= 2

.PHONY: demo test lint install clean

$(BIN)/o2o: pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,ray]'
	@touch $(BIN)/o2o

install: $(BIN)/o2o

demo: install
	rm -f $(DEMO_DB) $(DEMO_DB)-wal $(DEMO_DB)-shm $(DEMO_DB).jobs $(DEMO_DB).jobs-wal $(DEMO_DB).jobs-shm
	@test -s $(DEMO_SECRET_FILE) || (umask 077 && $(BIN)/python -c \
		'import secrets; print(secrets.token_urlsafe(48))' > $(DEMO_SECRET_FILE))
	O2O_DATABASE_URL=$(DEMO_URL) $(BIN)/o2o db upgrade
	# The demo seals its mobile numbers with the key the server will open them with.
	O2O_DATABASE_URL=$(DEMO_URL) O2O_SECRET_KEY="$$(cat $(DEMO_SECRET_FILE))" $(BIN)/o2o demo
	O2O_DATABASE_URL=$(DEMO_URL) O2O_SECRET_KEY="$$(cat $(DEMO_SECRET_FILE))" \
		$(BIN)/o2o serve --host 127.0.0.1 --port 8000

test: install
	$(BIN)/python -m pytest -n $(TEST_WORKERS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy app allocation allocation_files ledger spreadsheet_cells coded_messages
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache test-artifacts
