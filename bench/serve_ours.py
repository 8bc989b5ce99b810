"""Our app on uvicorn, as `currency-api serve --aws` runs it: settings from the environment.

Usage: ``python -m bench.serve_ours PORT`` (127.0.0.1 only).
"""

from __future__ import annotations

import sys

import uvicorn

from currency_api.app import create_app
from currency_api.settings import Settings

if __name__ == "__main__":
    app = create_app(Settings.from_env())
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", access_log=False)
