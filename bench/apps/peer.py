"""The peer: the same operations in FastAPI + Mangum, written the way FastAPI is usually written.

Same settings, boto3 client creation, token verification (currency_api.auth.Authenticator and
its JwksCache), store and problem details as ours; Pydantic models (strict, unknown members
forbidden) mirror the spec's schemas; ``async def`` operations call the store inline, as ours
does on Lambda; responses are returned without a response model, as ours skips response
validation on Lambda. ``Mangum(lifespan="off")`` with the same text media types.

As a server (bench/serve_peer.py) the same app runs on uvicorn with a CurrencyStore on
DynamoDB and its calls in Starlette's thread pool, as ours runs there (:func:`serve_with`).
"""

from __future__ import annotations

import gc

# As currency_api/lambda_function.py: no collections while importing and building.
gc.disable()

import time
from collections.abc import Callable, Mapping
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from mangum import Mangum
from mangum.adapter import DEFAULT_TEXT_MIME_TYPES
from pydantic import BaseModel, ConfigDict, Field, model_validator
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bench.memory_store import EURO, MemoryStore
from currency_api.auth import READ_SCOPE, WRITE_SCOPE, Authenticator, InvalidToken, Principal
from currency_api.problems import PROBLEM_JSON, DomainError, problem_body
from currency_api.settings import Settings
from currency_api.store import WRITABLE_FIELDS, CurrencyStore, create_client, etag_of

IMPORTED_AT = time.perf_counter()

CODE = r"^[A-Z]{3}$"
Code = Annotated[str, Field(pattern=CODE, min_length=3, max_length=3)]
Name = Annotated[str, Field(min_length=1, max_length=100)]
NumericCode = Annotated[str, Field(pattern=r"^[0-9]{3}$")]
MinorUnit = Annotated[int | None, Field(ge=0, le=4)]
Symbol = Annotated[str, Field(min_length=1, max_length=10)]
REALM = 'Bearer realm="currency-api"'


class CurrencyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    code: Code
    name: Name
    numericCode: NumericCode  # noqa: N815 (the spec's member name)
    minorUnit: MinorUnit  # noqa: N815
    symbol: Symbol | None = None


class CurrencyReplace(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    code: Code | None = None
    name: Name
    numericCode: NumericCode  # noqa: N815
    minorUnit: MinorUnit  # noqa: N815
    symbol: Symbol | None = None


class CurrencyPatch(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    name: Name | None = None
    numericCode: NumericCode | None = None  # noqa: N815
    minorUnit: MinorUnit = None  # noqa: N815
    symbol: Symbol | None = None

    @model_validator(mode="after")
    def not_empty(self) -> CurrencyPatch:
        if not self.model_fields_set:
            raise ValueError("a patch must change at least one member")
        return self


class Problem(Exception):
    def __init__(self, status: int, title: str, detail: str, headers: Mapping[str, str]) -> None:
        super().__init__(detail)
        self.status, self.title, self.headers = status, title, dict(headers)


def problem(status: int, title: str, detail: str, headers: Mapping[str, str] = {}) -> Response:
    return Response(problem_body(status, title, detail), status, dict(headers), PROBLEM_JSON)


class SecurityHeaders:
    """``nosniff`` everywhere and ``no-store`` on authenticated answers, as ours adds them."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        authenticated = any(name == b"authorization" for name, _ in scope.get("headers", ()))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("x-content-type-options", "nosniff")
                if authenticated and "cache-control" not in headers:
                    headers["cache-control"] = "no-store"
            await send(message)

        await self.app(scope, receive, send_with_headers)


settings = Settings.from_env()
client = create_client(settings.region)
store: CurrencyStore = MemoryStore(client, settings.table_name, settings.cursor_secret, [EURO])
#: Run store calls in the thread pool (a server), or inline (Lambda, one request at a time).
offload = False


async def call[R](fn: Callable[..., R], *args: Any) -> R:
    if offload:
        return await run_in_threadpool(fn, *args)
    return fn(*args)


def serve_with(server_store: CurrencyStore) -> FastAPI:
    """The app for a server: ``server_store`` (on DynamoDB), calls in the thread pool."""
    global store, offload
    store, offload = server_store, True
    return app


authenticator = Authenticator(settings)
bearer = HTTPBearer(auto_error=False, scheme_name="bearerAuth")


def requires(scope: str) -> Any:
    async def caller(
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> Principal:
        if credentials is None:
            raise Problem(
                401, "Unauthorized", "An access token is required.", {"WWW-Authenticate": REALM}
            )
        try:
            principal = authenticator.verify(credentials.credentials)
        except InvalidToken:
            raise Problem(
                401,
                "Unauthorized",
                "The access token is not valid.",
                {"WWW-Authenticate": f'{REALM}, error="invalid_token"'},
            ) from None
        if scope not in principal.grants:
            raise Problem(
                403,
                "Forbidden",
                "The access token does not grant this operation.",
                {"WWW-Authenticate": f'{REALM}, error="insufficient_scope", scope="{scope}"'},
            )
        return principal

    return Depends(caller)


Reader = Annotated[Principal, requires(READ_SCOPE)]
Writer = Annotated[Principal, requires(WRITE_SCOPE)]
PathCode = Annotated[str, Path(pattern=CODE)]

app = FastAPI(title="Currency API (FastAPI peer)", version="1.0.0")
app.add_middleware(SecurityHeaders)


@app.exception_handler(DomainError)
async def domain_error(_request: Request, exc: DomainError) -> Response:
    return problem(exc.status, exc.title, str(exc), exc.headers())


@app.exception_handler(Problem)
async def refused(_request: Request, exc: Problem) -> Response:
    return problem(exc.status, exc.title, str(exc), exc.headers)


@app.exception_handler(RequestValidationError)
async def invalid(_request: Request, exc: RequestValidationError) -> Response:
    first = exc.errors()[0] if exc.errors() else {}
    return problem(400, "Bad Request", str(first.get("msg", "The request is not valid.")))


def _json(body: Any, status: int = 200, **headers: str) -> JSONResponse:
    return JSONResponse(body, status, headers)


def _unconditional(_current: Mapping[str, Any]) -> None:
    return None


@app.get("/health", response_model=None)
async def get_health() -> JSONResponse:
    return _json({"status": "ok"})


@app.get("/currencies", response_model=None)
async def list_currencies(
    _caller: Reader,
    limit: Annotated[int, Query(ge=1, le=100, strict=True)] = 50,
    cursor: Annotated[str | None, Query(min_length=1, max_length=512)] = None,
) -> JSONResponse:
    page = await call(store.list, limit, cursor)
    return _json({"items": page.items, "nextCursor": page.next_cursor})


@app.post("/currencies", response_model=None, status_code=201)
async def create_currency(body: CurrencyCreate, caller: Writer) -> JSONResponse:
    currency = await call(store.create, body.model_dump(), caller.subject)
    return _json(currency, 201, ETag=etag_of(currency), Location=f"/currencies/{currency['code']}")


@app.get("/currencies/{code}", response_model=None)
async def get_currency(
    code: PathCode,
    _caller: Reader,
    if_none_match: Annotated[str | None, Header(max_length=1024)] = None,
) -> Response:
    currency = await call(store.get, code)
    etag = etag_of(currency)
    if if_none_match is not None and (if_none_match.strip() == "*" or etag in if_none_match):
        return Response(status_code=304, headers={"ETag": etag})
    return _json(currency, ETag=etag)


@app.patch("/currencies/{code}", response_model=None)
async def update_currency(code: PathCode, patch: CurrencyPatch, caller: Writer) -> JSONResponse:
    changes = patch.model_dump(exclude_unset=True)

    def merge(current: Mapping[str, Any]) -> dict[str, Any]:
        merged = {name: current.get(name) for name in WRITABLE_FIELDS}
        merged.update(changes)
        return merged

    currency = await call(store.write, code, merge, caller.subject, _unconditional)
    return _json(currency, ETag=etag_of(currency))


@app.put("/currencies/{code}", response_model=None)
async def replace_currency(code: PathCode, body: CurrencyReplace, caller: Writer) -> JSONResponse:
    fields = body.model_dump()
    currency = await call(store.write, code, lambda _c: fields, caller.subject, _unconditional)
    return _json(currency, ETag=etag_of(currency))


@app.delete("/currencies/{code}", response_model=None, status_code=204)
async def delete_currency(code: PathCode, _caller: Writer) -> Response:
    await call(store.delete, code)
    return Response(status_code=204)


handler = Mangum(app, lifespan="off", text_mime_types=[*DEFAULT_TEXT_MIME_TYPES, "+json"])


# Built: as currency_api/lambda_function.py, what exists now is never collected, and the
# collector runs as usual from here on.
gc.freeze()
gc.enable()
