# The developer loop: the same targets in the README, .ci/run and cloudbuild.yaml.
SHELL := /bin/bash
PYTHON ?= python3
UV_VERSION := 0.13.8
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
BIN := $(VENV)/bin
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: install node run test test-fast lint typecheck fmt docs lighthouse clean traces

$(UV):
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required")'
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.synced: $(UV) uv.lock pyproject.toml shared/pyproject.toml $(wildcard functions/*/pyproject.toml)
	$(UV) sync --frozen --all-packages --python $(PYTHON) --quiet
	@touch $@

install: $(VENV)/.synced ## Install the locked dependencies into .venv

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

node: node_modules/.installed ## axe-core and Lighthouse, pinned in package-lock.json (the browser suite injects axe)

run: install ## Serve all four services on http://127.0.0.1:$${PORT:-8080} (embedded mode)
	@exec $(BIN)/python -m workplace_roleplay.web.gateway

stack: install ## Every service its own process behind nginx (Firestore emulator, local Redis) on :$${PORT:-8080}
	@exec $(BIN)/python -m tools.ops stack

traces: install ## Slowest spans of the last minutes from the stack's span file (TRACE_EXPORTER=file), e.g. make traces ARGS="slowest --minutes 5"
	@$(BIN)/python -m tools.traces $(ARGS)

ops: install ## Ops commands, e.g. make ops ARGS="canary chat 10 --revision chat-candidate --env local"
	@$(BIN)/python -m tools.ops $(ARGS)

lint: install ## ruff (style, banned imports) + import-linter (layers)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: install ## mypy --strict over shared, functions, tests
	$(BIN)/mypy shared/src functions tests tools bench

fmt: install ## Format and auto-fix
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

test: install node lint typecheck ## Lint, typecheck and the whole suite (starts the Firestore emulator and, if needed, Redis)
	$(BIN)/python tools/run_tests.py

test-fast: install ## The unit suite only (in-process fakes, seconds): the inner loop
	$(BIN)/python tools/run_tests.py tests/unit -q

lighthouse: install node ## Lighthouse scores of / and /chat (desktop, mobile) against a running make run on $${PORT:-8080}
	$(BIN)/python -m tools.lighthouse --base http://127.0.0.1:$${PORT:-8080}

docs: install ## Regenerate the README settings table and the docs/scenarios.md catalog tables
	$(BIN)/python -m tools.settings_doc
	$(BIN)/python -m tools.scenario_docs

clean:
	rm -rf $(VENV) $(TOOLS) node_modules .mypy_cache .ruff_cache .pytest_cache
