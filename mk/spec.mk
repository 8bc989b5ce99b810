# Spec review: lint spec/openapi.yaml and check its changes against a base.
# See docs/changing-the-api.md. Included by the top-level Makefile (include mk/*.mk).

VENV ?= .venv
PY ?= $(VENV)/bin/python
SPEC_TOOLS := tools/spec
# The npm tools behind lint-spec and spec-diff, pinned by tools/spec/package-lock.json.
SPEC_TOOLS_STAMP := $(SPEC_TOOLS)/node_modules/.package-lock.json
# What spec-diff compares against: a git ref (branch, tag, commit) or a file.
BASE ?= main

.PHONY: install-spec-tools lint-spec spec-diff

install-spec-tools: $(SPEC_TOOLS_STAMP)

# npm writes node_modules/.package-lock.json on every install: reinstall when the lock is newer.
$(SPEC_TOOLS_STAMP): $(SPEC_TOOLS)/package.json $(SPEC_TOOLS)/package-lock.json
	npm ci --prefix $(SPEC_TOOLS) --no-audit --no-fund
	@touch $@

# `install` (the top-level Makefile's) provides .venv and openapi-spec-validator.
lint-spec: install $(SPEC_TOOLS_STAMP)
	$(PY) tools/lint_spec.py

spec-diff: install $(SPEC_TOOLS_STAMP)
	$(PY) tools/spec_diff.py --base $(BASE)

# Hook into the top-level targets: `make lint` lints the spec too, and `make test` (tests/spec
# drives both tools) installs them first.
lint: lint-spec
test: install-spec-tools
