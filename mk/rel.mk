# Reliability (issue 5): dynalite for the concurrency tests, `make load` for sustained load.
.PHONY: install-rel load

DYNALITE_DIR := tools/dynalite
DYNALITE_STAMP := $(DYNALITE_DIR)/node_modules/.installed
LOAD_REQUESTS ?= 5000
LOAD_CONCURRENCY ?= 32

install: install-rel

install-rel: $(DYNALITE_STAMP)

$(DYNALITE_STAMP): $(DYNALITE_DIR)/package.json $(DYNALITE_DIR)/package-lock.json
	npm ci --prefix $(DYNALITE_DIR) --no-audit --no-fund --loglevel=error
	touch $@

# The local server (uvicorn, as `currency-api serve` runs it) against moto in a separate
# process, a mixed read/write workload with valid tokens: zero 5xx, latency percentiles,
# throughput and the server's RSS before and after.
load: install
	$(PY) -m bench.load --requests $(LOAD_REQUESTS) --concurrency $(LOAD_CONCURRENCY)
