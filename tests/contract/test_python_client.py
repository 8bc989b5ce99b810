"""A Python client generated from the current spec drives the local app over real HTTP.

openapi-python-client (the dev extra pins it) generates the client into a temporary folder, as
`make sdk` does into build/sdk/python; the app runs under uvicorn on 127.0.0.1 against the
embedded emulators, and the client sends the admin's real access token.
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http import HTTPStatus
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import uvicorn
from connexion import AsyncApp

from currency_api.app import SPEC_PATH

ROOT = Path(__file__).resolve().parents[2]
GENERATOR_CONFIG = ROOT / "tools" / "sdk" / "openapi-python-client.yaml"
PACKAGE = "currency_api_client"


def generate_python_client(spec: Path, out: Path) -> Path:
    """Run openapi-python-client on ``spec``; return the folder to put on ``sys.path``.

    ``--fail-on-warning``: a spec the generator cannot fully express fails here, not in a
    caller's build. Its post-generation hooks run ruff, found beside this interpreter.
    """
    bin_dir = Path(sys.executable).parent
    package_dir = out / PACKAGE
    subprocess.run(  # noqa: S603 (the pinned generator beside this interpreter, our paths)
        [
            str(bin_dir / "openapi-python-client"),
            "generate",
            "--path",
            str(spec),
            "--config",
            str(GENERATOR_CONFIG),
            "--meta",
            "none",
            "--output-path",
            str(package_dir),
            "--fail-on-warning",
        ],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"},
        timeout=120,
    )
    return out


@pytest.fixture
def live_server(contract_app: AsyncApp) -> Iterator[str]:
    """The app under uvicorn on a free loopback port, in a thread; yields its base URL."""
    server = uvicorn.Server(
        uvicorn.Config(contract_app, host="127.0.0.1", port=0, log_level="warning")
    )
    thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive(), "uvicorn stopped while starting"
        assert time.monotonic() < deadline, "uvicorn did not start within 10 s"
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def sdk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, ModuleType]]:
    """The generated client's modules, imported from a temporary folder."""
    folder = generate_python_client(SPEC_PATH, tmp_path_factory.mktemp("python-client"))
    sys.path.insert(0, str(folder))
    try:
        names = [
            "client",
            "models",
            "api.currencies.create_currency",
            "api.currencies.get_currency",
            "api.currencies.list_currencies",
            "api.currencies.replace_currency",
            "api.currencies.update_currency",
            "api.currencies.delete_currency",
        ]
        yield {name: importlib.import_module(f"{PACKAGE}.{name}") for name in names}
    finally:
        sys.path.remove(str(folder))
        for module in [m for m in sys.modules if m == PACKAGE or m.startswith(f"{PACKAGE}.")]:
            del sys.modules[module]


def test_generated_python_client_round_trip(
    sdk: dict[str, ModuleType], live_server: str, admin_token: str
) -> None:
    models: Any = sdk["models"]
    create: Any = sdk["api.currencies.create_currency"]
    get: Any = sdk["api.currencies.get_currency"]
    list_: Any = sdk["api.currencies.list_currencies"]
    update: Any = sdk["api.currencies.update_currency"]
    delete: Any = sdk["api.currencies.delete_currency"]

    with sdk["client"].AuthenticatedClient(base_url=live_server, token=admin_token) as api:
        # Create: 201, a typed Currency and its ETag.
        created = create.sync_detailed(
            client=api,
            body=models.CurrencyCreate(
                code="XTS", name="Code for testing", numeric_code="963", minor_unit=None
            ),
        )
        assert created.status_code == HTTPStatus.CREATED
        assert isinstance(created.parsed, models.Currency)
        assert created.parsed.minor_unit is None
        assert created.headers["location"] == "/currencies/XTS"
        etag = created.headers["etag"]

        # Get: the same currency.
        fetched = get.sync(code="XTS", client=api)
        assert isinstance(fetched, models.Currency)
        assert (fetched.name, fetched.numeric_code, fetched.version) == (
            "Code for testing",
            "963",
            1,
        )

        # List with pagination: walking the cursors yields every currency exactly once.
        seen: list[str] = []
        pages = 0
        page = list_.sync(client=api, limit=2)
        while True:
            assert isinstance(page, models.CurrencyPage)
            assert len(page.items) <= 2
            seen.extend(item.code for item in page.items)
            pages += 1
            if page.next_cursor is None:
                break
            page = list_.sync(client=api, limit=2, cursor=page.next_cursor)
        assert sorted(seen) == ["EUR", "USD", "XAU", "XTS"]
        assert pages >= 2

        # Patch with If-Match (a header parameter of the generated method): 200 and a new ETag.
        patched = update.sync_detailed(
            code="XTS", client=api, body=models.CurrencyPatch(symbol="¤"), if_match=etag
        )
        assert patched.status_code == HTTPStatus.OK
        assert patched.parsed.symbol == "¤"
        assert patched.parsed.version == 2
        new_etag = patched.headers["etag"]
        assert new_etag != etag

        # 409: the code exists; the generated Problem model carries the problem details.
        conflict = create.sync_detailed(
            client=api,
            body=models.CurrencyCreate(
                code="XTS", name="Again", numeric_code="963", minor_unit=None
            ),
        )
        assert conflict.status_code == HTTPStatus.CONFLICT
        assert isinstance(conflict.parsed, models.Problem)
        assert (conflict.parsed.status, conflict.parsed.title) == (409, "Conflict")
        assert conflict.headers["content-type"] == "application/problem+json"

        # 412: the first ETag is stale now.
        stale = update.sync_detailed(
            code="XTS", client=api, body=models.CurrencyPatch(name="Lost update"), if_match=etag
        )
        assert stale.status_code == HTTPStatus.PRECONDITION_FAILED
        assert isinstance(stale.parsed, models.Problem)
        assert (stale.parsed.status, stale.parsed.title) == (412, "Precondition Failed")

        # Delete with the current ETag: 204; the currency is gone (404 as a Problem).
        deleted = delete.sync_detailed(code="XTS", client=api, if_match=new_etag)
        assert deleted.status_code == HTTPStatus.NO_CONTENT
        gone = get.sync(code="XTS", client=api)
        assert isinstance(gone, models.Problem)
        assert gone.status == 404
