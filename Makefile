# The front door: `make dev`, `make test`, `make lint`, `make bench`.
# Dependencies come from uv.lock only; uv itself is pinned and installed into .local/uv.
PYTHON ?= python3.11
UV_VERSION := 0.13.9
UV := .local/uv/bin/uv
VENV := .venv
PY := $(VENV)/bin/python
export UV_PROJECT_ENVIRONMENT := $(abspath $(VENV))
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: install dev test test-fast test-dates lint format bench messages system-deps clean

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

# axe-core for the browser journeys' accessibility checks and vnu-jar (the Nu HTML checker, run by
# tests/test_html_valid.py), from tests/browser/package-lock.json (npm ci; vnu-jar's install script, which
# would download a Java, is not run: Debian's is used). A stamp file marks the install: npm leaves the
# packages' own (1985) dates on their files.
NODE_TOOLS := tests/browser/node_modules/.etal-installed
$(NODE_TOOLS): tests/browser/package.json tests/browser/package-lock.json | system-deps
	npm ci --prefix tests/browser --no-audit --no-fund --ignore-scripts
	touch $@

# Two test processes (pytest-xdist), one per core: each has its own test database, Redis databases and
# file folders (config/settings/test.py). PYTEST_ARGS="-n 0" runs everything in one process.
test: install system-deps $(NODE_TOOLS)
	$(PY) -m config.embedded test -- $(PY) -m pytest -n 2 $(PYTEST_ARGS)

# The date-sensitive tests (everything but the browser journeys) with the clock set to each day of a week,
# both summer-time nights, a month end and a year end (tests/conftest.py reads ETAL_TODAY). The quick sweep
# that `make test` runs is tests/test_any_day.py.
DATE_SWEEP := 2026-12-07T09:00 2026-12-08T09:00 2026-12-09T09:00 2026-12-10T09:00 2026-12-11T09:00 \
	2026-12-12T09:00 2026-12-13T23:30 2027-03-28T01:30 2027-10-31T02:30 2027-02-28T23:45 2026-12-31T23:59
test-dates: install
	@for moment in $(DATE_SWEEP); do \
		echo "[etal] tests on $$moment"; \
		ETAL_TODAY=$$moment $(PY) -m config.embedded test -- $(PY) -m pytest -q --ignore=tests/browser $(PYTEST_ARGS) \
			|| exit 1; \
	done

# The edit-run loop: everything but the browser journeys and the any-day sweep, stopping at the first failure.
test-fast: install
	$(PY) -m config.embedded test -- $(PY) -m pytest -x -q --ignore=tests/browser --ignore=tests/test_any_day.py $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(PY) -m config.embedded test -- $(PY) manage.py makemigrations --check --dry-run

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
