# Two commands on a fresh machine (Python 3.11 + pip): `make demo` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
DEMO_DIR ?= demo

.PHONY: demo test lock clean

$(BIN)/costledger: requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(BIN)/costledger

demo: $(BIN)/costledger
	rm -rf $(DEMO_DIR)
	$(BIN)/costledger demo --workspace $(DEMO_DIR)

test: $(BIN)/costledger
	$(BIN)/python -m pytest -q -n auto --dist loadfile --no-loadscope-reorder --durations=25

lock:
	uv pip compile requirements.in --python-version 3.11 --universal --generate-hashes --no-header --no-annotate -o requirements.lock

clean:
	rm -rf $(VENV) $(DEMO_DIR)
