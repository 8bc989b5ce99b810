# Swagger UI checks in headless Chromium (tests/browser): Debian's chromium package and
# playwright-core pinned by tools/browser/package-lock.json. Included by the top-level Makefile.
BROWSER_TOOLS := tools/browser
# npm writes node_modules/.package-lock.json on every install: reinstall when the lock is newer.
BROWSER_TOOLS_STAMP := $(BROWSER_TOOLS)/node_modules/.package-lock.json
CHROMIUM ?= /usr/bin/chromium

.PHONY: install-browser

install-browser: $(BROWSER_TOOLS_STAMP) $(CHROMIUM)

$(BROWSER_TOOLS_STAMP): $(BROWSER_TOOLS)/package.json $(BROWSER_TOOLS)/package-lock.json
	npm ci --prefix $(BROWSER_TOOLS) --no-audit --no-fund --ignore-scripts --loglevel=error
	@touch $@

# playwright-core downloads no browser (--ignore-scripts, and none is fetched here): it drives
# the distribution's Chromium. apt-get needs root, as CI and these machines run.
$(CHROMIUM):
	@command -v apt-get >/dev/null || { echo "error: $(CHROMIUM) is missing; install Chromium" \
	  "(Debian/Ubuntu: apt-get install chromium) or pass CHROMIUM=/path/to/chromium." >&2; exit 1; }
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium

test: install-browser
