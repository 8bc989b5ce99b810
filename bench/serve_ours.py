"""Our app on uvicorn, as `currency-api serve --aws` runs it: settings from the environment,
the JSON access log on, the shared uvicorn options (currency_api.server).

Usage: ``python -m bench.serve_ours PORT`` (127.0.0.1 only).
"""

from __future__ import annotations

import sys

import uvicorn

from currency_api.server import aws_app, uvicorn_options

if __name__ == "__main__":
    uvicorn.run(aws_app(), **uvicorn_options(host="127.0.0.1", port=int(sys.argv[1])))
