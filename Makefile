# The two promises of the README:
#   make run    serve the site on SQLite with the built-in demo inference endpoint
#   make test   run the whole test suite (SQLite and PostgreSQL, real Chromium)
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
DEMO_PORT ?= 8001
ARENA_TEST_POSTGRES_URL ?= postgresql://postgres@127.0.0.1:5432/test
ARENA_TEST_REDIS_URL ?= redis://127.0.0.1:6379/15
export ARENA_TEST_POSTGRES_URL ARENA_TEST_REDIS_URL

.PHONY: run test deps dev-deps browser axe lint bench clean

$(VENV)/.deps: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev-deps: $(VENV)/.deps requirements-dev.txt
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

deps: $(VENV)/.deps
dev-deps: $(VENV)/.dev-deps

# Debian's Chromium for the browser tests (Playwright drives it; no browser download), and an
# emoji font so the vote buttons render in screenshots.
browser:
	@command -v chromium >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-color-emoji >/dev/null; \
	  else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-color-emoji >/dev/null; fi; }

# Both ports are checked before anything starts, and the site starts only once the demo
# endpoint answers: a busy port stops `make run` with one clear line, never a half-working site.
run: deps
	@$(PY) -m arena.demo_endpoint --host $(HOST) --check-free DEMO_PORT=$(DEMO_PORT) PORT=$(PORT)
	@mkdir -p instance
	ARENA_DEMO_URL=http://$(HOST):$(DEMO_PORT)/v1 $(VENV)/bin/flask --app wsgi db upgrade
	ARENA_DEMO_URL=http://$(HOST):$(DEMO_PORT)/v1 $(VENV)/bin/flask --app wsgi contenders sync contenders.demo.yaml
	@$(PY) -m arena.demo_endpoint --host $(HOST) --port $(DEMO_PORT) --delay 0.03 & demo=$$!; \
	  trap "kill $$demo 2>/dev/null" EXIT INT TERM; \
	  for i in $$(seq 100); do \
	    kill -0 $$demo 2>/dev/null || { echo "error: the demo endpoint did not start (see above); the site was not started." >&2; exit 1; }; \
	    $(PY) -c "import urllib.request; urllib.request.urlopen('http://$(HOST):$(DEMO_PORT)/health', timeout=1)" 2>/dev/null && break; \
	    sleep 0.1; \
	  done; \
	  echo "Arena on http://$(HOST):$(PORT)/  (demo endpoint on :$(DEMO_PORT); Ctrl-C stops both)"; \
	  ARENA_BIND=$(HOST):$(PORT) $(VENV)/bin/gunicorn -c gunicorn.conf.py wsgi:app

# axe-core for the accessibility checks of the browser tests: a pinned package from the npm
# registry, installed once into tests/e2e/.axe (gitignored); the tests download nothing.
AXE_VERSION := 4.10.3
AXE_DIR := tests/e2e/.axe
$(AXE_DIR)/node_modules/axe-core/axe.min.js:
	@command -v npm >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null; \
	  else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null; fi; }
	npm install --prefix $(AXE_DIR) --no-save --no-audit --no-fund --ignore-scripts axe-core@$(AXE_VERSION)
axe: $(AXE_DIR)/node_modules/axe-core/axe.min.js

# The suite on one pytest worker per core (pytest-xdist), whole files to a worker;
# `make test TEST_WORKERS=0` runs it in one process.
TEST_WORKERS ?= auto
test: dev-deps browser axe
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile

lint: dev-deps
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy --ignore-missing-imports arena ratings wsgi.py

clean:
	rm -rf $(VENV) instance artifacts .pytest_cache
