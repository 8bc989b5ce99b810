# Contract tests and generated clients (issue 7). Included by the top-level Makefile.
#   make fuzz   Schemathesis with a much larger budget than `make test` (a new seed per run)
#   make sdk    Python client and TypeScript types from spec/openapi.yaml into build/sdk/
# See docs/contract.md.

VENV ?= .venv
PY ?= $(VENV)/bin/python
SDK_TOOLS := tools/sdk
# npm writes node_modules/.package-lock.json on every install: reinstall when the lock is newer.
SDK_TOOLS_STAMP := $(SDK_TOOLS)/node_modules/.package-lock.json
SDK_OUT := build/sdk

# Budget of `make fuzz`: examples per operation, stateful scenarios, and the seed (print it, so a
# failure can be replayed with `make fuzz FUZZ_SEED=<seed>`).
FUZZ_EXAMPLES ?= 2000
FUZZ_SCENARIOS ?= 500
FUZZ_SEED ?= $(shell date +%s)

.PHONY: install-sdk-tools sdk fuzz

install: install-sdk-tools

install-sdk-tools: $(SDK_TOOLS_STAMP)

$(SDK_TOOLS_STAMP): $(SDK_TOOLS)/package.json $(SDK_TOOLS)/package-lock.json
	npm ci --prefix $(SDK_TOOLS) --no-audit --no-fund --ignore-scripts
	@touch $@

sdk: install $(SDK_TOOLS_STAMP)
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(VENV)/bin/openapi-python-client generate \
	  --path spec/openapi.yaml --config $(SDK_TOOLS)/openapi-python-client.yaml \
	  --meta uv --output-path $(SDK_OUT)/python --overwrite --fail-on-warning
	$(SDK_TOOLS)/node_modules/.bin/openapi-typescript spec/openapi.yaml \
	  --output $(SDK_OUT)/typescript/currency-api.d.ts
	$(SDK_TOOLS)/node_modules/.bin/tsc --project $(SDK_TOOLS)/tsconfig.json
	@echo "Python client: $(SDK_OUT)/python (pip install ./$(SDK_OUT)/python)"
	@echo "TypeScript types: $(SDK_OUT)/typescript/currency-api.d.ts (type-checked with $(SDK_TOOLS)/caller.ts)"

fuzz: install
	@echo "make fuzz: seed $(FUZZ_SEED), $(FUZZ_EXAMPLES) examples per operation, $(FUZZ_SCENARIOS) stateful scenarios"
	CONTRACT_SEED=$(FUZZ_SEED) CONTRACT_MAX_EXAMPLES=$(FUZZ_EXAMPLES) \
	  CONTRACT_STATEFUL_SCENARIOS=$(FUZZ_SCENARIOS) \
	  $(PY) -m pytest tests/contract/test_schemathesis.py --timeout=0 -q
