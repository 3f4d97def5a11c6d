# Two commands on a fresh machine:
#   make run   — set up, migrate, load demo data, serve http://127.0.0.1:5000 with the job
#                worker beside it (SQLite; no other server)
#   make test  — set up and run the whole test suite (SQLite and PostgreSQL, browser tests)
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
FLASK  := $(BIN)/flask --app wsgi

.PHONY: run test api-check bench setup browser loadgen catalogs lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

setup: $(VENV)/.installed catalogs

catalogs: $(VENV)/.installed
	$(BIN)/pybabel compile -d translations --statistics

# The job worker (imports, mail, periodic tasks) runs beside the server, on the same SQLite
# queue file (instance/jobs.sqlite3), and stops with it.
run: setup
	$(FLASK) db upgrade
	$(FLASK) demo
	$(FLASK) jobs worker & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker' EXIT INT TERM; \
	$(FLASK) run --host 127.0.0.1 --port 5000

# Browser tests drive Debian's Chromium (never a downloaded browser); CJK fonts for screenshots.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium fonts-noto-cjk; }

test: setup browser
	$(BIN)/ruff check app tests bench
	$(BIN)/python -m pytest
	$(MAKE) api-check

# The API document tells the truth: Schemathesis's CLI, every phase and check, as each demo
# role, against a server with the demo data (SQLite in a temporary directory); no failures.
api-check: setup
	BIN=$(BIN) tests/api_check.sh

# The load generator for transitions: Debian's wrk (a C client, so the client does not
# share the app's Python cost); without it bench falls back to Python threads.
loadgen:
	@command -v wrk >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq wrk; }

# The whole benchmark (needs PostgreSQL with pgbench); prints the table, writes bench/RESULTS.md.
# Options: make bench BENCH_ARGS="--sizes 100000 --seconds 10"
bench: setup loadgen
	$(BIN)/python -m bench.run $(BENCH_ARGS)

lint: $(VENV)/.installed
	$(BIN)/ruff check app tests bench

clean:
	rm -rf $(VENV) instance .pytest_cache
