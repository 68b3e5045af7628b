# Two commands: `make run` (dashboard on the bundled data) and `make test` (every test).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PORT   ?= 8501
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

EVERY  ?= 6h

.PHONY: run serve worker test test-fast docs install-docs bench bench-cpu bench-concurrency bench-feeds floors install install-test install-bench chromium postgresql nginx lint format clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

install: $(BIN)/python
	$(BIN)/python -m pip install -q -e .

install-test: $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[test]'

# Browser tests drive Debian's Chromium through Playwright, and the chart images are drawn by
# it (kaleido); no browser is ever downloaded. pdftotext (poppler-utils) reads the PDF images.
chromium:
	@{ command -v chromium && command -v pdftotext; } >/dev/null 2>&1 || { \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium poppler-utils >/dev/null; }

# The test suite starts its own PostgreSQL server from Debian's binaries (initdb + pg_ctl).
postgresql:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq postgresql >/dev/null; }

install-docs: $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[docs]'

# The hosting tests start Debian's nginx with deploy/nginx.conf in front of the app.
nginx:
	@command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || { \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq nginx >/dev/null; }

install-bench: $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[bench]'

# `make bench` runs 1M and 10M observations (long); `make bench QUICK=1` finishes in a few
# minutes (its last tables: bench/last_quick.txt). Three tables: latency, ingest, browser and the
# floor gaps; server CPU per fresh view against the one-chart page and peer 1; views/s; the two
# floor gaps measured alternating ours and the one-chart page (before/after: bench/last_floors.txt).
bench: install-bench chromium
	$(BIN)/python -m bench.run $(if $(QUICK),--quick,) $(if $(SIZES),--sizes $(SIZES),)
	$(BIN)/python -m bench.server_cpu $(if $(QUICK),--quick,)
	$(BIN)/python -m bench.concurrency $(if $(QUICK),--quick,)
	$(BIN)/python -m bench.floors
	$(BIN)/python -m bench.sharing $(if $(QUICK),--repeat 1,)
	$(BIN)/python -m bench.as_of_links $(if $(QUICK),--links 20,)

# server CPU per fresh view of every page, the one-chart page and peer 1, in one run
bench-cpu: install-bench chromium
	$(BIN)/python -m bench.server_cpu $(if $(QUICK),--quick,)

# fresh views/s of one server at 1, 10 and 25 concurrent sessions, ours and peer 1 (no browser)
bench-concurrency: install-bench
	$(BIN)/python -m bench.concurrency $(if $(QUICK),--quick,)

# live-feed throughput against the local replay server (no network): `make bench-feeds`
bench-feeds: install-test
	$(BIN)/python -m bench.feeds $(if $(SCALE),--scale $(SCALE),)

run: install
	$(BIN)/streamlit run serve.py --server.port $(PORT)

# Hosted: the same scripts the containers run (docs/hosting.md). The worker
# refreshes every configured feed every EVERY (`make worker EVERY=30m`), incrementally, one
# run at a time across every process sharing the store; SIGTERM/Ctrl-C ends it.
serve: $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[postgres]'
	PYTHON=$(BIN)/python PORT=$(PORT) scripts/start-app

worker: $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[postgres]'
	PYTHON=$(BIN)/python REFRESH_EVERY=$(EVERY) scripts/start-worker

# The docs site (mkdocs.yml, docs/): built strictly into site/; the settings and CLI pages are
# generated from the code at build time (docs/hooks.py). `make docs SERVE=1` serves it live.
docs: install-docs
	$(BIN)/mkdocs $(if $(SERVE),serve,build --strict --clean)

# Every test, on two workers (pytest-xdist): tests sharing a module's server or browser run on
# one worker (--dist loadgroup), the rest spread test by test; one PostgreSQL and one loaded
# snapshot serve both workers. WORKERS=1 for one process. docs/testing.md has the tiers.
WORKERS ?= 2
test: install-test chromium postgresql nginx
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mkdocs build --strict --clean
	$(BIN)/python -m pytest -n $(WORKERS) --dist loadgroup

# The inner loop: no browser, SQLite only, not the slow runs (fault matrix, refresh worker).
test-fast: install-test
	$(BIN)/python -m pytest -q -n $(WORKERS) --dist loadgroup --stores sqlite -m "not browser and not slow"

# The version floors in pyproject.toml, checked: every direct dependency at its lowest allowed
# release (uv's lowest-direct resolution) in a throwaway venv, then the tests that need no browser.
FLOORS_VENV ?= /tmp/situation-room-floors
floors: $(BIN)/python
	$(BIN)/python -m pip install -q uv
	rm -rf $(FLOORS_VENV) && $(BIN)/uv venv -q -p $(PYTHON) $(FLOORS_VENV)
	$(BIN)/uv pip install -q -p $(FLOORS_VENV)/bin/python --resolution lowest-direct -e '.[test]'
	$(FLOORS_VENV)/bin/python -m pytest -q -p no:cacheprovider -m "not browser" $(FLOORS_TESTS)

lint:
	$(BIN)/ruff check .

format:
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf data test-artifacts .pytest_cache site
