# Quick start: `make run` serves the dashboard, `make test` runs the whole suite.
# Both create .venv on first use and install the project into it.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
PORT ?= 8501

.PHONY: run test lint geodata bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

# `make run STORE=path/to/events.gpkg` opens that event store (default: $$DASHBOARD_STORE or the
# user data folder, the same store as `python -m dashboard events ...`).
run: $(STAMP)
	$(if $(STORE),DASHBOARD_STORE="$(STORE)" )$(PY) -m streamlit run dashboard/app.py --server.port $(PORT) --server.headless true

test: $(STAMP)
	$(VENV)/bin/ruff check .
	$(PY) -m pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check .

geodata: $(STAMP)
	$(PY) scripts/build_geodata.py

bench: $(STAMP)
	$(PY) scripts/bench_geodesy.py
	$(PY) scripts/bench_dashboard.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
