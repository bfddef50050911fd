# Pressbox: `make demo` runs the offline demo, `make test` runs every test. Both set up what they need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# uv installs exactly uv.lock into $(VENV); uv itself lives in a venv of its own, pinned by hash.
UV_HOME := .uv
UV := $(UV_HOME)/bin/uv
export UV_PROJECT_ENVIRONMENT := $(VENV)
RECORDINGS ?= ../shared/recordings
# Four real games on one timeline, 20 minutes apart: a live-captured NCAAF game (Postman), an NBA
# and an NFL game (ESPN site-API summaries) and an NCAAF game (ESPN core-API documents).
SOURCES ?= $(RECORDINGS)/espn-ncaaf-401756846-postman/Football.Ncaa.Espn.Event.postman_collection.json \
	$(RECORDINGS)/games/nba-401772994/summary.json \
	$(RECORDINGS)/games/nfl-401547417/summary.json \
	$(RECORDINGS)/espn-docs/EspnFootballNcaa
SPEED ?= 60
STAGGER ?= 20
PORT ?= 8000
# Test processes (pytest-xdist): each test goes to the next free process, except a module's tests
# that share a costly fixture, marked into one `xdist_group`. The suite waits on replay clocks
# more than it computes: 4 processes on 2 cores take 7 minutes where 2 take 12:43 (measured);
# 4 is the aim (issue 16.7); at 4, two timing-sensitive checks still failed in the last run, so
# the default stays at 2 until they are fixed.
PYTEST_WORKERS ?= 2

.PHONY: demo test venv lock ui lint format pytest uitest clean

demo: venv ui ## Replay four recorded games, staggered, and serve the UI
	$(BIN)/pressbox replay $(SOURCES) --speed $(SPEED) --stagger $(STAGGER) --port $(PORT)

test: venv ui lint uitest pytest ## Every check and test

# Bytecode is compiled at install: Python never has to compile a dependency again, even where
# PYTHONDONTWRITEBYTECODE is set (it then compiles every import of every process, ~2 s of CPU for
# each `pressbox` process the tests start). The project's own sources are compiled before tests.
venv: $(VENV)/.installed
$(VENV)/.installed: pyproject.toml uv.lock $(UV) Makefile
	$(UV) sync --frozen --extra dev --compile-bytecode --python $(PYTHON) --quiet
	touch $@

$(UV): tools/uv.txt
	$(PYTHON) -m venv $(UV_HOME)
	$(UV_HOME)/bin/pip install --quiet --disable-pip-version-check --require-hashes -r tools/uv.txt
	touch $@

lock: $(UV) ## Re-resolve every dependency to its newest allowed version, then run `make test`
	$(UV) lock --upgrade

ui: src/pressbox/web/static/index.html
src/pressbox/web/static/index.html: frontend/node_modules/.installed $(shell find frontend/src frontend/index.html frontend/vite.config.ts frontend/tsconfig.json -type f 2>/dev/null)
	cd frontend && npm run build

frontend/node_modules/.installed: frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund
	touch $@

lint: venv
	$(UV) lock --check
	$(UV) sync --frozen --extra dev --check --quiet
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

format: venv
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

uitest: frontend/node_modules/.installed
	cd frontend && npm test

pytest: venv ui
	$(BIN)/python -m compileall -q src
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadgroup --durations=20

clean:
	rm -rf $(VENV) $(UV_HOME) frontend/node_modules src/pressbox/web/static var
