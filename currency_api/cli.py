"""`currency-api serve | seed | token`: the command line for local runs and operators."""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from pathlib import Path
from typing import Any

from currency_api.server import DEFAULT_WORKERS
from currency_api.settings import Settings, SettingsError, metrics_enabled


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="currency-api", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="serve the API with uvicorn")
    # HOST and PORT: how a container platform sets them (the Dockerfile does).
    serve.add_argument(
        "--host",
        default=os.environ.get("HOST") or "127.0.0.1",
        help="address to listen on (default: $HOST or 127.0.0.1)",
    )
    serve.add_argument(
        "--port",
        type=_port,
        default=os.environ.get("PORT") or "8000",
        help="TCP port, 1-65535 (default: $PORT or 8000)",
    )
    serve.add_argument(
        "--aws",
        action="store_true",
        help="use the AWS account, TABLE_NAME and COGNITO_* from the environment "
        "instead of the embedded emulators",
    )
    serve.add_argument("--no-seed", action="store_true", help="start with an empty table")
    serve.add_argument(
        "--metrics",
        action="store_true",
        help="print one CloudWatch EMF metrics record per request on stdout, as on Lambda "
        "(same as METRICS=emf)",
    )
    serve.add_argument(
        "--workers",
        type=_positive,
        default=None,
        help="worker processes with --aws (default: WEB_CONCURRENCY, else "
        f"{DEFAULT_WORKERS}); the local server is one process",
    )

    seed = commands.add_parser("seed", help="load the ISO 4217 list into the table")
    seed.add_argument("--create-table", action="store_true", help="create the table if missing")
    seed.add_argument("--file", type=Path, help="a list-one XML file (default: the shipped one)")
    seed.add_argument("--symbols", action="store_true", help="add symbols from CLDR (babel)")

    token = commands.add_parser("token", help="print an access token for the local API")
    who = token.add_mutually_exclusive_group()
    who.add_argument("--user", help="sign in as this demo user (default: admin)")
    who.add_argument("--client", choices=["service"], help="a service client's token")
    token.add_argument(
        "--scope",
        action="append",
        choices=["currencies/read", "currencies/write"],
        help="scopes of a service token (repeatable; default both)",
    )

    args = parser.parse_args(argv)
    if args.command == "token" and args.scope and not args.client:
        token.error("--scope applies to service tokens: add --client service")
    try:
        if args.command == "serve":
            return _serve(args)
        if args.command == "seed":
            from botocore.exceptions import NoCredentialsError

            try:
                return _seed(args)
            except NoCredentialsError:
                print(
                    "currency-api seed: no AWS credentials found; configure them (AWS_PROFILE, "
                    "...) or point AWS_ENDPOINT_URL_DYNAMODB at a local emulator",
                    file=sys.stderr,
                )
                return 1
        return _token(args)
    except SettingsError as exc:
        print(f"currency-api: {exc}", file=sys.stderr)
        return 2


def _serve(args: argparse.Namespace) -> int:
    from currency_api.logs import configure_logging
    from currency_api.server import serve_aws, uvicorn_options

    # JSON lines for every logger; the app writes the access log, so uvicorn's is off.
    configure_logging(os.environ.get("LOG_LEVEL", "INFO"), pid=args.aws)
    busy = _port_in_use(args.host, args.port)
    if busy:
        # Fail before provisioning anything: the local state of a server already running
        # on that port (what `currency-api token` reads) must stay intact.
        print(
            f"currency-api serve: {args.host}:{args.port} is in use ({busy}); is another "
            "`currency-api serve` running? Stop it, or pick another port: --port 8001 "
            "(make run PORT=8001).",
            file=sys.stderr,
        )
        return 1

    if args.aws:
        # Checked here, before any worker starts, so a missing variable fails once and clearly;
        # each worker reads the same environment again (currency_api.server.aws_app).
        if args.metrics:
            os.environ["METRICS"] = "emf"  # read again by every worker (server.aws_app)
        settings = Settings.from_env()
        workers = args.workers or _env_workers()
        print(
            f"Serving against AWS table {settings.table_name} in {settings.region} "
            f"with {workers} worker processes",
            flush=True,
        )
        serve_aws(host=args.host, port=args.port, workers=workers)
        return 0

    import boto3
    import uvicorn

    from currency_api import local
    from currency_api.app import create_app
    from currency_api.iso4217 import read_list_one
    from currency_api.seed import seed
    from currency_api.store import CurrencyStore, create_client

    # The embedded emulator always serves Cognito; DynamoDB too unless the caller named an
    # endpoint of their own (another local emulator, say).
    emulator = local.Emulator()
    endpoint = emulator.start()
    dynamodb_endpoint = os.environ.get("AWS_ENDPOINT_URL_DYNAMODB") or endpoint
    local.point_boto3_at(endpoint, dynamodb_endpoint)
    cognito_client = boto3.client("cognito-idp", region_name=local.REGION)
    cognito = dataclasses.replace(
        local.provision_cognito(cognito_client, endpoint), dynamodb_endpoint=dynamodb_endpoint
    )
    cognito.save()
    settings = local.settings_for(
        cognito, metrics=args.metrics or metrics_enabled({"METRICS": os.environ.get("METRICS", "")})
    )
    client = create_client(settings.region)
    store = CurrencyStore(client, settings.table_name, settings.cursor_secret)
    store.ensure_table()
    if not args.no_seed:
        summary = seed(client, settings.table_name, read_list_one())
        print(f"Seeded ISO 4217: {summary}")
    base = f"http://{args.host}:{args.port}"
    # The spec's servers list names the URL printed below (currency_api/served_spec.py).
    settings = dataclasses.replace(settings, public_url=base)
    app = create_app(settings, store=store)
    print(
        f"""
Currency API (local: Cognito at {endpoint}, DynamoDB at {dynamodb_endpoint})
  API          {base}/currencies
  Swagger UI   {base}/ui/
  Spec         {base}/openapi.json
Get a token (admin user, may write):   .venv/bin/currency-api token
            (reader user, read only):  .venv/bin/currency-api token --user {local.DEMO_READER}
            (service client):          .venv/bin/currency-api token --client service
Then: curl -H "Authorization: Bearer $TOKEN" {base}/currencies/EUR
In Swagger UI: Authorize, paste the token under bearerAuth.
""",
        flush=True,
    )
    try:
        uvicorn.run(app, **uvicorn_options(host=args.host, port=args.port))
    finally:
        emulator.stop()
    return 0


def _positive(text: str) -> int:
    """An argparse type: a positive integer."""
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, not {text!r}")
    return int(text)


def _port(text: str) -> int:
    """An argparse type: a TCP port number, 1 to 65535."""
    port = _positive(text)
    if port > 65535:
        raise argparse.ArgumentTypeError(f"expected a port from 1 to 65535, not {text!r}")
    return port


def _env_workers() -> int:
    """``WEB_CONCURRENCY`` (the variable uvicorn's own CLI reads for --workers), else the default.

    Raises:
        SettingsError: it is not a positive integer.
    """
    raw = os.environ.get("WEB_CONCURRENCY", "").strip()
    if not raw:
        return DEFAULT_WORKERS
    if not raw.isdigit() or int(raw) < 1:
        raise SettingsError("environment variable WEB_CONCURRENCY must be a positive integer")
    return int(raw)


def _port_in_use(host: str, port: int) -> str | None:
    """Why ``host:port`` cannot be bound now (the OS error), or None if it can."""
    import socket

    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        try:
            probe.bind((host, port))
        except OSError as exc:
            return exc.strerror or str(exc)
    return None


def _seed(args: argparse.Namespace) -> int:
    from botocore.exceptions import ClientError, EndpointConnectionError

    from currency_api.iso4217 import Iso4217Error, read_list_one
    from currency_api.problems import DependencyUnavailable
    from currency_api.seed import SeedConflict, cldr_symbol, seed
    from currency_api.store import CurrencyStore, TransactionCancelled

    try:
        currencies = read_list_one(args.file)
    except (Iso4217Error, OSError) as exc:
        print(f"currency-api seed: {exc}", file=sys.stderr)
        return 1
    found = _seed_target()
    if isinstance(found, int):
        return found
    client, table, where = found
    try:
        if args.create_table:
            CurrencyStore(client, table).ensure_table()
        else:
            client.describe_table(TableName=table)
    except EndpointConnectionError:
        print(
            f"currency-api seed: nothing answers at {where}; start the local server "
            "(`make run`) or set TABLE_NAME",
            file=sys.stderr,
        )
        return 1
    except ClientError as exc:
        missing = exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException"
        if args.create_table or not missing:
            raise
        print(
            f"currency-api seed: there is no table {table!r} in {where}; create it with "
            "`currency-api seed --create-table` (or deploy the stack, which creates it)",
            file=sys.stderr,
        )
        return 1
    from tqdm import tqdm

    # The bar appears with the first progress report, after the checks: an error that
    # stops the seed before any write prints no bar.
    bars: list[Any] = []

    def progress(done: int) -> None:
        if not bars:
            bars.append(tqdm(total=len(currencies), unit="currency", file=sys.stderr))
        bars[0].update(done - bars[0].n)

    try:
        summary = seed(
            client,
            table,
            currencies,
            symbols=cldr_symbol if args.symbols else None,
            progress=progress,
        )
    except SeedConflict as exc:
        print(f"currency-api seed: {exc}", file=sys.stderr)
        return 1
    except TransactionCancelled:
        print(
            "currency-api seed: another writer changed the table while seeding (the batches "
            "written before stay); run seed again",
            file=sys.stderr,
        )
        return 1
    except DependencyUnavailable as exc:
        print(f"currency-api seed: {exc}", file=sys.stderr)
        return 1
    finally:
        for bar in bars:
            bar.close()
    print(f"{len(currencies)} currencies: {summary}")
    return 0


def _seed_target() -> tuple[Any, str, str] | int:
    """The DynamoDB client, table and a description of where, for `seed`; or an exit code.

    With ``TABLE_NAME`` set: that table, in the region and account (or endpoint) the
    environment names. Without it, in the folder where `currency-api serve` runs: the local
    server's table in its embedded emulator, as its state file names them.

    Raises:
        SettingsError: neither is there, or the region is missing.
    """
    from currency_api import local
    from currency_api.store import create_client

    table = os.environ.get("TABLE_NAME", "").strip()
    if not table:
        try:
            state = local.LocalCognito.load()
        except FileNotFoundError:
            raise SettingsError(
                "environment variable TABLE_NAME is required but not set (or run seed in the "
                "folder where `currency-api serve` runs: there is no "
                f"{local.STATE_FILE.resolve()})"
            ) from None
        except (ValueError, TypeError):
            print(
                f"currency-api seed: {local.STATE_FILE} is not valid local state", file=sys.stderr
            )
            return 1
        endpoint = state.dynamodb_endpoint or state.endpoint
        if not local.is_loopback(endpoint):
            print(
                f"currency-api seed: refused: {local.STATE_FILE} names {endpoint!r}, not an "
                "emulator on loopback; set TABLE_NAME to seed a real table",
                file=sys.stderr,
            )
            return 1
        import boto3

        from currency_api.store import CLIENT_CONFIG

        client = boto3.session.Session().client(
            "dynamodb",
            region_name=state.region,
            endpoint_url=endpoint,
            aws_access_key_id="local",
            aws_secret_access_key="local",  # noqa: S106 (the emulator takes any)
            config=CLIENT_CONFIG,
        )
        return client, state.table_name, f"the local server's emulator at {endpoint}"
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    if not region:
        raise SettingsError("environment variable AWS_REGION is required but not set")
    where = os.environ.get("AWS_ENDPOINT_URL_DYNAMODB") or region
    return create_client(region), table, where


def _token(args: argparse.Namespace) -> int:
    from currency_api import local

    try:
        cognito = local.LocalCognito.load()
    except FileNotFoundError:
        print(
            f"currency-api token: no local server state at {local.STATE_FILE.resolve()}: start "
            "the local API first (make run), and run token in the folder where it runs",
            file=sys.stderr,
        )
        return 1
    except (ValueError, TypeError):
        print(f"currency-api token: {local.STATE_FILE} is not valid local state", file=sys.stderr)
        return 1
    try:
        # Only the embedded emulator: never a real user pool, whatever the environment says.
        client = local.emulator_client(cognito)
        local.ensure_emulator(cognito, client)
    except local.NotTheEmulator as exc:
        print(f"currency-api token: refused: {exc}", file=sys.stderr)
        return 1
    if args.client:
        scopes = args.scope or ["currencies/read", "currencies/write"]
        print(
            "# LOCAL-ONLY service token, minted with the emulator's key (no real pool accepts it)",
            file=sys.stderr,
        )
        print(local.mint_service_token(cognito, scopes))
        return 0
    from botocore.exceptions import ClientError

    username = args.user or cognito.admin_username
    try:
        token = local.password_token(client, cognito, username)
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "error")
        print(f"currency-api token: sign-in as {username!r} failed: {code}", file=sys.stderr)
        return 1
    print(token)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
