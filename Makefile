# Chorus: build, test, lint, bench and the local demo.  `make help` lists the targets.
#
# Two virtual environments, both created on first use and refreshed only when their lock changes:
#   .venv/   the project (uv sync --frozen from uv.lock: never re-resolved)
#   .tools/  SAM CLI + cfn-lint + uv, pinned with hashes in tools/requirements.txt
#            (apart from .venv because aws-sam-translator pins an older pydantic than the project)

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:
MAKEFLAGS += --no-builtin-rules

# ---------------------------------------------------------------- interpreter
# The pyenv shim answers `python3.13` only where .python-version says 3.13 (this repo has one) or
# with PYENV_VERSION set; when it does not, fall back to pyenv's own 3.13 install.
PYENV_ROOT ?= $(HOME)/.pyenv
PYTHON ?= python3.13
PYTHON_EXE := $(shell $(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 13); print(sys.executable)' 2>/dev/null)
ifeq ($(PYTHON_EXE),)
PYTHON_EXE := $(lastword $(sort $(wildcard $(PYENV_ROOT)/versions/3.13*/bin/python3.13)))
endif
# The real interpreter's folder goes first on PATH: `sam build` runs `python3.13` from scratch
# folders where the pyenv shim would not resolve.
ifneq ($(PYTHON_EXE),)
export PATH := $(patsubst %/,%,$(dir $(PYTHON_EXE))):$(PATH)
endif

export UV_PYTHON := python3.13
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(CURDIR)/.venv
# Trust the machine's CA store (TLS to PyPI may be re-signed by a local CA on CI machines).
export UV_SYSTEM_CERTS ?= 1
export SAM_CLI_TELEMETRY := 0
export AWS_DEFAULT_REGION ?= eu-west-1

# ---------------------------------------------------------------- paths
VENV := .venv
TOOLS := .tools
VENV_STAMP := $(VENV)/.chorus-synced
TOOLS_STAMP := $(TOOLS)/.chorus-installed
UV := $(TOOLS)/bin/uv
SAM := $(TOOLS)/bin/sam
CFN_LINT := $(TOOLS)/bin/cfn-lint
PY := $(VENV)/bin/python
BUILD_DIR ?= .aws-sam/build
SAM_CACHE_DIR ?= .aws-sam/cache
TRANSFORMED := .aws-sam/transformed/template.json
PYTEST_ARGS ?=
BENCH_ROWS ?= 10000
# The browser of the e2e suite (Playwright drives this binary; tests/e2e/conftest.py).
CHROMIUM ?= /usr/bin/chromium
# axe-core, injected into the console pages by the e2e suite, pinned in tools/axe/package-lock.json.
AXE := tools/axe/node_modules/axe-core/axe.min.js

.PHONY: help
help: ## List the targets
	@grep -hE '^[a-z][a-zA-Z_-]*:.*## ' $(MAKEFILE_LIST) | sort | \
		awk 'BEGIN {FS = ":.*## "} {printf "  %-12s %s\n", $$1, $$2}'

# ---------------------------------------------------------------- environments
.PHONY: check-python
check-python:
	@if [[ -z "$(PYTHON_EXE)" ]]; then \
		echo "error: Python 3.13 not found (tried '$(PYTHON)' and $(PYENV_ROOT)/versions/3.13*)." >&2; \
		echo "       Install it with pyenv, or run: make PYTHON=/path/to/python3.13 ..." >&2; \
		exit 1; \
	fi

# Order-only on check-python: it must run first, but must not make the stamps look stale.
$(TOOLS_STAMP): tools/requirements.txt | check-python
	@echo "==> tools venv ($(TOOLS)/) from tools/requirements.txt"
	[[ -x $(TOOLS)/bin/python ]] || $(PYTHON_EXE) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet --disable-pip-version-check \
		--require-hashes --no-deps -r tools/requirements.txt
	touch $@

$(VENV_STAMP): uv.lock pyproject.toml | $(TOOLS_STAMP)
	@echo "==> project venv ($(VENV)/) from uv.lock"
	$(UV) sync --frozen
	touch $@

.PHONY: venv tools
venv: $(VENV_STAMP) ## Create/refresh the project venv (.venv) from uv.lock
tools: $(TOOLS_STAMP) ## Create/refresh the tools venv (.tools: sam, cfn-lint, uv)

# Re-pin the tools after editing tools/requirements.in (resolves: needs the network).
.PHONY: tools-lock
tools-lock: $(TOOLS_STAMP) ## Re-resolve tools/requirements.txt from tools/requirements.in
	$(UV) pip compile tools/requirements.in --generate-hashes --universal --python-version 3.13 \
		--no-header -o tools/requirements.txt

# ---------------------------------------------------------------- checks
.PHONY: lint
lint: $(VENV_STAMP) ## ruff check + ruff format --check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

.PHONY: fmt
fmt: $(VENV_STAMP) ## Apply ruff fixes and formatting
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

.PHONY: typecheck
typecheck: $(VENV_STAMP) ## mypy --strict (config in pyproject.toml), plus bench/
	$(VENV)/bin/mypy
	$(VENV)/bin/mypy --follow-imports=silent bench

# template.yaml is not what CloudFormation deploys: the SAM transform's output is linted too (a
# dependency cycle, E3004, only shows there).
.PHONY: cfn-lint
cfn-lint: $(TOOLS_STAMP) ## cfn-lint template.yaml, and the template CloudFormation deploys (after the SAM transform)
	$(CFN_LINT) template.yaml
	$(TOOLS)/bin/python tools/sam_transform.py --template template.yaml --output $(TRANSFORMED)
	$(CFN_LINT) $(TRANSFORMED)

.PHONY: build
# PIP_NO_DEPS: the layer gets exactly the pins of its requirements.txt (the whole runtime closure,
# tests/unit/test_packaging.py), never what pip would add: aws-xray-sdk names botocore, which the
# Lambda runtime provides and a copy in the layer would shadow (~30 MB, another version).
#
# Then the bytecode: sam build ships no .pyc (it leaves __pycache__ out), and Lambda's /opt and
# /var/task are read-only, so every cold start compiled the layer (pydantic, Powertools, Jinja2,
# chorus) from source again: about 4x the CPU of the imports themselves (bench/README.md). The
# .pyc are for the tools' Python, 3.13 as the runtime; unchecked-hash, since a deployed layer
# never changes, and a default .pyc is checked against its source's modification time, which a
# zip round trip need not keep.
build: $(TOOLS_STAMP) ## sam build (arm64 layer from layers/chorus/requirements.txt) into .aws-sam/build, bytecode compiled
	PIP_NO_DEPS=1 $(SAM) build --template-file template.yaml --build-dir $(BUILD_DIR) --cache-dir $(SAM_CACHE_DIR)
	$(TOOLS)/bin/python -m compileall -q -j 0 --invalidation-mode unchecked-hash $(BUILD_DIR)

.PHONY: pytest
pytest: $(VENV_STAMP) ## Only the pytest suite (PYTEST_ARGS="-k ..." to select)
	$(PY) -m pytest $(PYTEST_ARGS)

# The browser tests are part of the suite, never skipped: without Chromium, stop before anything else.
.PHONY: check-chromium
check-chromium:
	@[[ -x "$(CHROMIUM)" ]] || { echo "error: Chromium not found at $(CHROMIUM), the browser tests need it: sudo apt-get install chromium" >&2; exit 1; }

$(AXE): tools/axe/package.json tools/axe/package-lock.json
	@command -v npm >/dev/null || { echo "error: npm not found, the accessibility checks need it to install axe-core: sudo apt-get install npm" >&2; exit 1; }
	npm ci --prefix tools/axe --no-audit --no-fund --ignore-scripts
	@touch $@

.PHONY: axe
axe: $(AXE) ## Install axe-core (npm, pinned) for the console's accessibility checks

# Everything CI runs, cheapest first.
.PHONY: test
test: check-chromium $(AXE) lint typecheck cfn-lint build ## lint, typecheck, cfn-lint, sam build, then the whole pytest suite
	$(PY) -m pytest $(PYTEST_ARGS)

# ---------------------------------------------------------------- run
.PHONY: demo
demo: $(VENV_STAMP) ## Start the local cloud with sample data and print its URLs
	$(VENV)/bin/chorus demo

.PHONY: bench
bench: $(VENV_STAMP) ## Print benchmark figures (import time, cold starts, AWS calls of ingest, digest, consent, publishing, scoring)
	$(PY) -m bench.import_time
	$(PY) -m bench.cold_start
	$(PY) -m bench.cold_start_parts
	$(PY) -m bench.ingest_scale --rows $(BENCH_ROWS)
	$(PY) -m bench.consent_calls --employees $(BENCH_ROWS)
	$(PY) -m bench.console_calls --employees $(BENCH_ROWS)
	$(PY) -m bench.digest_scale --employees 5000
	$(PY) -m bench.due_posts --posts 1000
	$(PY) -m bench.publish_fanout --posts 1000 --orphans 10000 --workers 8
	$(PY) -m bench.leaderboard_scale
	$(PY) -m bench.scoring_scale --employees $(BENCH_ROWS)

# ---------------------------------------------------------------- housekeeping
.PHONY: clean
clean: ## Remove build output and caches (keeps the venvs)
	rm -rf .aws-sam .pytest_cache .mypy_cache .ruff_cache .hypothesis test-artifacts build dist
	find . -path ./.venv -prune -o -path ./.tools -prune -o -path ./.git -prune -o \
		-type d -name __pycache__ -print0 | xargs -0 rm -rf

.PHONY: distclean
distclean: clean ## Also remove both venvs
	rm -rf $(VENV) $(TOOLS) *.egg-info
