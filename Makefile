# The front door: `make dev`, `make test`, `make lint`, `make bench`.
# Dependencies come from uv.lock only; uv itself is pinned and installed into .local/uv.
PYTHON ?= python3.11
UV_VERSION := 0.13.9
UV := .local/uv/bin/uv
VENV := .venv
PY := $(VENV)/bin/python
export UV_PROJECT_ENVIRONMENT := $(abspath $(VENV))
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: install dev test lint format bench messages system-deps clean

$(UV):
	$(PYTHON) -m venv .local/uv
	.local/uv/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.synced: $(UV) uv.lock pyproject.toml
	$(UV) sync --locked --python $(PYTHON) --quiet
	touch $@

install: $(VENV)/.synced

# Debian packages that the suite needs and a fresh machine may lack (only when missing).
system-deps:
	@bash scripts/system-deps.sh

dev: install
	$(PY) -m config.embedded dev

# axe-core for the browser journeys' accessibility checks, from tests/browser/package-lock.json (npm ci).
# npm leaves the package's own (1985) dates on its files: touch, so that the next run finds it up to date.
AXE := tests/browser/node_modules/axe-core/axe.min.js
$(AXE): tests/browser/package.json tests/browser/package-lock.json | system-deps
	npm ci --prefix tests/browser --no-audit --no-fund
	touch $@

test: install system-deps $(AXE)
	$(PY) -m config.embedded test -- $(PY) -m pytest $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: install
	$(PY) -m config.embedded bench -- $(PY) bench/run_all.py

# Needs GNU gettext; the compiled .mo files are committed so that a fresh machine needs nothing.
messages: install
	$(PY) manage.py makemessages --locale en --locale fr --ignore .venv --ignore .local --no-obsolete
	$(PY) manage.py compilemessages --ignore .venv --ignore .local

clean:
	rm -rf $(VENV) .local/uv
