# Two commands on a fresh machine (Python 3.11 + pip): `make demo` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
DEMO_DIR ?= demo

.PHONY: demo test test-fast lint lock clean

$(BIN)/costledger: requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(BIN)/costledger

demo: $(BIN)/costledger
	rm -rf $(DEMO_DIR)
	$(BIN)/costledger demo --workspace $(DEMO_DIR)

PYTEST := $(BIN)/python -m pytest -q -n auto --dist loadfile --no-loadscope-reorder

test: $(BIN)/costledger
	$(PYTEST) --durations=25

# the tests not marked slow (the end-to-end ones still run in make test and CI)
test-fast: $(BIN)/costledger
	$(PYTEST) -m "not slow"

# lint, format and type checks (CI runs them before the tests), SQL style, and no import cycles
lint: $(BIN)/costledger
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy pipeline dags
	$(BIN)/sqlfluff lint sql/
	$(BIN)/python scripts/import_cycles.py

lock:
	uv pip compile requirements.in --python-version 3.11 --universal --generate-hashes --no-header --no-annotate -o requirements.lock

clean:
	rm -rf $(VENV) $(DEMO_DIR)
