# Antenna: `make run` starts the server, `make test` runs every check and test. Both set themselves up.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
VENDOR := src/antenna/web/static/vendor
HOST ?= 127.0.0.1
PORT ?= 8765

.PHONY: help run test check bench assets install dev system-deps c-toolchain clean

help:
	@echo "make run    - install and start antenna serve on http://$(HOST):$(PORT) (data in ./data)"
	@echo "make test   - install dev tools and Debian packages the tests need, then check and test everything"
	@echo "make check  - ruff, mypy --strict, import-direction contracts"
	@echo "make bench  - run the benchmarks in bench/ (results go in BENCHMARKS.md by hand)"

$(BIN)/python:
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Antenna needs Python 3.11 or newer"'
	$(PYTHON) -m venv $(VENV) || { scripts/ensure-system-packages "__venv__=python3-venv" && rm -rf $(VENV) && $(PYTHON) -m venv $(VENV); }
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.runtime: $(BIN)/python pyproject.toml hatch_build.py src/antenna/iptv/_playlist_views.c src/antenna/fs/_tree_write.c
	@# The install compiles the C modules when a compiler is there (hatch_build.py); without them Antenna
	@# reads playlists and writes VOD folders in Python, more slowly.
	$(BIN)/python -m pip install -q -e .
	@# Bytecode written now: with PYTHONDONTWRITEBYTECODE set (Docker images often do) every `antenna`
	@# command would otherwise compile the package again (~0.1 s of start-up). A stale file is only ignored.
	$(BIN)/python -m compileall -q src/antenna
	touch $@

$(VENV)/.dev: $(VENV)/.runtime
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $@

$(VENDOR)/.stamp: package.json package-lock.json
	scripts/ensure-system-packages npm=npm
	npm ci --no-audit --no-fund --loglevel=error
	mkdir -p $(VENDOR)
	cp node_modules/htmx.org/dist/htmx.min.js node_modules/htmx-ext-sse/dist/sse.js \
	   node_modules/@picocss/pico/css/pico.min.css node_modules/swagger-ui-dist/swagger-ui-bundle.js \
	   node_modules/swagger-ui-dist/swagger-ui.css $(VENDOR)/
	touch $@

install: $(VENV)/.runtime $(VENDOR)/.stamp
assets: $(VENDOR)/.stamp
dev: $(VENV)/.dev $(VENDOR)/.stamp

system-deps:
	scripts/ensure-system-packages chromium=chromium pg_dump=postgresql-client tv_validate_file=xmltv-util ffmpeg=ffmpeg \
	  /usr/share/fonts/truetype/dejavu=fonts-dejavu-core

# The C compiler and Python headers the tests need the C playlist reader built with (before the install).
c-toolchain:
	scripts/ensure-system-packages gcc=gcc "$$($(PYTHON) -c 'import sysconfig; print(sysconfig.get_paths()["include"])')/Python.h=python3-dev"

run: install
	$(BIN)/antenna --data ./data serve --host $(HOST) --port $(PORT)

check: $(VENV)/.dev
	$(BIN)/ruff check src tests bench hatch_build.py
	$(BIN)/ruff format --check src tests bench hatch_build.py
	$(BIN)/mypy
	$(BIN)/lint-imports

test: c-toolchain dev system-deps
	$(MAKE) --no-print-directory check
	$(BIN)/pytest

bench: dev
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) node_modules $(VENDOR) .pytest_cache .mypy_cache .ruff_cache src/antenna/iptv/*.so src/antenna/fs/*.so
