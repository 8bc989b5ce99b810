# Currency API: `make run` serves it locally on embedded emulators, `make test` proves it.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
# The interpreter of the deployed function (infra/bundling.py LAMBDA_PYTHON): .venv runs it too.
PYTHON_VERSION := 3.13
# uv manages .venv from the committed uv.lock; it comes from PyPI, pinned, into build/tools/uv.
UV_VERSION := 0.13.9
UV_HOME := build/tools/uv
UV := $(UV_HOME)/bin/uv
# uv: never download an interpreter (none can be fetched here), never touch the lock file.
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)
UV_SYNC = $(UV) sync --frozen --python $(PYTHON313)
LOCAL_STAMP := $(VENV)/.installed-local
DEV_STAMP := $(VENV)/.installed-dev

# python3.13 on PATH if it runs (a pyenv shim may name an inactive version), else pyenv's own.
PYTHON313 ?= $(shell for p in "$$(command -v python$(PYTHON_VERSION))" \
  $$(ls -d $${PYENV_ROOT:-$$HOME/.pyenv}/versions/$(PYTHON_VERSION)*/bin/python$(PYTHON_VERSION) 2>/dev/null | sort -r) \
  /usr/local/bin/python$(PYTHON_VERSION) /usr/bin/python$(PYTHON_VERSION); do \
  [ -n "$$p" ] && [ -x "$$p" ] && "$$p" -c 'import sys; sys.exit(sys.version_info[:2] != ($(subst .,$(comma),$(PYTHON_VERSION))))' 2>/dev/null \
  && { echo "$$p"; break; }; done)
comma := ,

.PHONY: install install-local run test lint format lock clean

# Everything: dev tools, CDK, SDK and spec tools (the npm ones are added by mk/*.mk).
install: $(DEV_STAMP)

# Only what serving needs: the package and its `local` extra.
install-local: $(LOCAL_STAMP)

$(UV):
	@[ -n "$(PYTHON313)" ] || { echo "error: Python $(PYTHON_VERSION) not found (the Lambda runtime's version)." \
	  "Install it (pyenv install $(PYTHON_VERSION), or your OS package python$(PYTHON_VERSION))" \
	  "or pass PYTHON313=/path/to/python$(PYTHON_VERSION)." >&2; exit 1; }
	$(PYTHON313) -m pip install --quiet --disable-pip-version-check --no-warn-script-location \
	  --root-user-action=ignore \
	  --target $(UV_HOME) uv==$(UV_VERSION) || { echo "error: could not install uv $(UV_VERSION) from PyPI" \
	  "with $(PYTHON313) -m pip; install it by hand into $(UV_HOME) (pip install --target $(UV_HOME) uv==$(UV_VERSION))." >&2; exit 1; }
	@touch $@

$(LOCAL_STAMP): $(UV) pyproject.toml uv.lock
	$(UV_SYNC) --inexact --extra local
	@touch $@

$(DEV_STAMP): $(UV) pyproject.toml uv.lock
	$(UV_SYNC) --all-extras
	@touch $@ $(LOCAL_STAMP)

# After editing dependencies in pyproject.toml: resolve again and commit uv.lock.
lock: $(UV)
	$(UV) lock --python $(PYTHON313)

HOST ?= 127.0.0.1
PORT ?= 8000

run: install-local
	$(VENV)/bin/currency-api serve --host $(HOST) --port $(PORT)

test: install lint
	$(PY) -m pytest

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/openapi-spec-validator spec/openapi.yaml
	$(VENV)/bin/hadolint Dockerfile

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache build cdk.out

-include mk/*.mk
