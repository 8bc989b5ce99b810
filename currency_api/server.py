"""uvicorn for every way we serve: its options are built here, for `serve` and `serve --aws`.

``currency-api serve`` (local, embedded emulators, one process) and ``currency-api serve
--aws`` (the container's command: real AWS, several worker processes) both take their
uvicorn options from :func:`uvicorn_options`, so a protocol or timeout setting is made once.

Production choices (``serve --aws``), with their reasons:

- ``workers`` processes share the listening socket; each builds its own app, boto3 client
  and JWKS cache in :func:`aws_app` (uvicorn imports it by name in every worker).
- Graceful shutdown: on SIGTERM (what ECS and ``docker stop`` send) uvicorn stops
  accepting, lets in-flight requests finish for up to :data:`GRACEFUL_SHUTDOWN_SECONDS`,
  then exits. With workers, the parent passes SIGTERM to each worker, which does the same.
- Keep-alive :data:`KEEP_ALIVE_SECONDS`: longer than an Application Load Balancer's idle
  timeout (60 s by default), so the load balancer, not the server, closes idle connections
  and never sends a request on a connection the server is closing (AWS, Elastic Load
  Balancing user guide, "Connection idle timeout": "we recommend that you configure the
  idle timeout of your application to be larger than the idle timeout configured for the
  load balancer").
- Logs are our JSON lines (currency_api.logs) for every logger, uvicorn's included; the
  app writes the access log itself, so uvicorn's access log is off.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from currency_api import http_protocol

if TYPE_CHECKING:
    from connexion import AsyncApp

#: Worker processes of ``serve --aws`` unless ``--workers`` says otherwise.
DEFAULT_WORKERS: Final = 2
#: Seconds in-flight requests get to finish after SIGTERM. The slowest honest request is a
#: write whose DynamoDB calls all time out (under 15 s, currency_api.store.CLIENT_CONFIG) plus
#: a 2 s JWKS fetch; ECS sends SIGKILL 30 s after SIGTERM by default (stopTimeout).
GRACEFUL_SHUTDOWN_SECONDS: Final = 20
#: Seconds an idle keep-alive connection stays open (production; see the module docstring).
KEEP_ALIVE_SECONDS: Final = 65
#: The ASGI app of ``serve --aws``, as uvicorn imports it in each worker.
AWS_APP: Final = "currency_api.server:aws_app"


def uvicorn_options(
    *, host: str, port: int, production: bool = False, workers: int = 1
) -> dict[str, Any]:
    """Keyword arguments for ``uvicorn.run`` (uvicorn 0.54).

    Args:
        host, port: where to listen.
        production: ``serve --aws`` (see the module docstring); False for the local server.
        workers: worker processes (production only; the local server is one process).
    """
    options: dict[str, Any] = {
        "host": host,
        "port": port,
        # Our JSON logging for every logger (configure_logging); uvicorn's dictConfig would
        # replace it. The app writes the access log (edge.Edge, currency_api.logs).
        "log_config": None,
        "access_log": False,
        "server_header": False,
        # Strict HTTP/1.1 parsing (no CL+TE, obs-fold or bare LF), a bounded request head
        # and problem+json refusals: currency_api/http_protocol.py.
        "http": http_protocol.PROTOCOL,
    }
    if production:
        options.update(
            workers=workers,
            timeout_keep_alive=KEEP_ALIVE_SECONDS,
            timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
        )
    return options


def aws_app() -> AsyncApp:
    """The app of one ``serve --aws`` worker: settings from the environment, JSON logs.

    uvicorn calls this factory in each worker process (``factory=True``), so every worker
    has its own boto3 client and JWKS cache. Never starts an emulator.

    Raises:
        currency_api.settings.SettingsError: the environment lacks a required setting.
    """
    from currency_api.app import create_app
    from currency_api.logs import configure_logging
    from currency_api.settings import Settings

    settings = Settings.from_env()
    configure_logging(settings.log_level, pid=True)
    return create_app(settings)


def serve_aws(*, host: str, port: int, workers: int = DEFAULT_WORKERS) -> None:
    """Serve :func:`aws_app` with the production options until SIGTERM or SIGINT."""
    import uvicorn

    uvicorn.run(
        AWS_APP,
        factory=True,
        **uvicorn_options(host=host, port=port, production=True, workers=workers),
    )
