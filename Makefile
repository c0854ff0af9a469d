# Two commands matter: `make run` and `make test`. Everything else is a step they share.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
SPEC := tests/github-spec/node_modules/.package-lock.json
AXE := tests/browser/node_modules/.package-lock.json

.PHONY: run test setup spec migrate bench audit clean chromium screenshots demo

run: $(VENV)/.runtime
	@mkdir -p instance
	$(VENV)/bin/flask --app app db upgrade
	$(VENV)/bin/flask --app app check
	exec $(VENV)/bin/gunicorn app:app

# The import rules (.importlinter) first: a broken layer fails in a second, before the suite.
# The suite runs in TEST_PROCESSES processes (pytest-xdist), a test file to each at a time so a file's
# shared fixtures (the browser tests' scene) are built once: most tests wait on real processes and
# sockets, so two processes on two cores finish in about two thirds of the time of one.
TEST_PROCESSES ?= 2
test: $(VENV)/.dev $(SPEC) $(AXE) chromium
	$(VENV)/bin/lint-imports --no-logo
	$(PY) -m pytest -n $(TEST_PROCESSES) --dist loadfile $(PYTEST_ARGS)

# The bot against the test suite's fake GitHub, with sessions to look at and comment on (tests/demo.py).
demo: $(VENV)/.dev $(SPEC)
	$(PY) -m tests.demo

setup: $(VENV)/.dev $(SPEC) $(AXE)

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.runtime: requirements.txt | $(VENV)/bin/python
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: requirements-dev.txt requirements.txt | $(VENV)/bin/python
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.runtime

# GitHub's REST description and webhook examples, pinned in package-lock.json (npm checks their hashes).
$(SPEC): tests/github-spec/package.json tests/github-spec/package-lock.json
	cd tests/github-spec && npm ci --no-audit --no-fund --loglevel=error

# The browser tests (tests/browser) drive Debian's Chromium, never a browser Playwright downloads. Under
# CI=true it is installed when missing (and a browser still missing fails the run); elsewhere its absence
# skips those tests, saying why.
chromium:
	@if [ "$$CI" = true ] && [ ! -x /usr/bin/chromium ]; then apt-get update -qq && apt-get install -y -qq chromium; fi

# axe-core, pinned in tests/browser/package-lock.json: the browser tests run it in every page.
$(AXE): tests/browser/package.json tests/browser/package-lock.json
	cd tests/browser && npm ci --no-audit --no-fund --loglevel=error

# docs/img/sessions.png and session.png (the README's), taken by the browser tests' own code from their scene.
# The emoji font draws the log summary's state mark as GitHub does.
screenshots: $(VENV)/.dev $(AXE)
	@test -x /usr/bin/chromium || { apt-get update -qq && apt-get install -y -qq chromium; }
	@test -f /usr/share/fonts/truetype/noto/NotoColorEmoji.ttf || { apt-get update -qq && apt-get install -y -qq fonts-noto-color-emoji; }
	$(PY) -m tests.browser.screenshots docs/img

# Known vulnerabilities in the pinned runtime dependencies. Needs a network that reaches PyPI's
# vulnerability database (this project's CI machine has none, so CI does not run it).
PIP_AUDIT := pip-audit==2.10.1

audit: $(VENV)/.runtime
	$(PY) -m pip install --quiet $(PIP_AUDIT)
	$(VENV)/bin/pip-audit --strict --requirement requirements.txt --disable-pip --no-deps

clean:
	rm -rf $(VENV) tests/github-spec/node_modules tests/browser/node_modules

# Benchmarks (bench/README.md). `make bench` runs every section (throughput end to end first, then intake,
# commands, API economy, memory, index, load, soak, slow clients; ~30 minutes) and writes one report,
# bench/results/latest.md and latest.json (BENCH_BASELINE=<commit> adds that commit's throughput rows);
# `make bench BENCH_ARGS="--only commands"` runs some. `make bench-smoke` (CI) runs every section with
# tiny counts into a temporary folder and asserts no timings.
BENCH_PROBOT := bench/probot/node_modules/.package-lock.json
BENCH_SMOKE_OUT ?= $(or $(TMPDIR),/tmp)/session-bot-bench-smoke
BENCH_ARGS ?=

.PHONY: bench-smoke bench-tools

bench: bench-tools
	$(PY) -m bench.report $(BENCH_ARGS)

bench-smoke: bench-tools
	$(PY) -m bench.report --smoke --out $(BENCH_SMOKE_OUT) $(BENCH_ARGS)

bench-tools: $(VENV)/.dev $(SPEC) $(BENCH_PROBOT)
	@command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
	@test -x /usr/sbin/nginx || command -v nginx >/dev/null || { apt-get update -qq && apt-get install -y -qq nginx; }

# Probot 14.3.2, the reference most GitHub Apps are built on, pinned in bench/probot/package-lock.json.
$(BENCH_PROBOT): bench/probot/package.json bench/probot/package-lock.json
	cd bench/probot && npm ci --no-audit --no-fund --loglevel=error
