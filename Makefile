# Two commands matter: `make run` and `make test`. Everything else is a step they share.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
SPEC := tests/github-spec/node_modules/.package-lock.json

.PHONY: run test setup spec migrate bench audit clean

run: $(VENV)/.runtime
	@mkdir -p instance
	$(PY) -m bot.config check
	$(VENV)/bin/flask --app app db upgrade
	exec $(VENV)/bin/gunicorn app:app

test: $(VENV)/.dev $(SPEC)
	$(PY) -m pytest $(PYTEST_ARGS)

setup: $(VENV)/.dev $(SPEC)

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

clean:
	rm -rf $(VENV) tests/github-spec/node_modules
