"""The floor: a bare Lambda handler doing the same work by hand (no web framework).

Same settings, boto3 client creation, token verification (currency_api.auth.Authenticator),
store and problem details as the other two apps; routing, validation and JSON by hand.
"""

from __future__ import annotations

import gc

# As currency_api/lambda_function.py: no collections while importing and building.
gc.disable()

import base64
import json
import re
import time
from collections.abc import Mapping
from typing import Any

from bench.memory_store import EURO, MemoryStore
from currency_api.auth import READ_SCOPE, WRITE_SCOPE, Authenticator, InvalidToken, Principal
from currency_api.problems import DomainError, problem_body
from currency_api.settings import Settings
from currency_api.store import WRITABLE_FIELDS, create_client, etag_of

IMPORTED_AT = time.perf_counter()

settings = Settings.from_env()
client = create_client(settings.region)
store = MemoryStore(client, settings.table_name, settings.cursor_secret, [EURO])
authenticator = Authenticator(settings)

_ITEM = re.compile(r"^/currencies/([A-Z]{3})$")
_CODE = re.compile(r"^[A-Z]{3}$")
_NUMERIC = re.compile(r"^[0-9]{3}$")
_REALM = 'Bearer realm="currency-api"'


class _BadRequest(Exception):
    pass


def _response(status: int, body: Any, headers: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {
            "content-type": "application/json",
            "x-content-type-options": "nosniff",
            "cache-control": "no-store",
            **(headers or {}),
        },
        "body": json.dumps(body, ensure_ascii=False, separators=(",", ":")),
        "isBase64Encoded": False,
    }


def _problem(
    status: int, title: str, detail: str, headers: Mapping[str, str] = {}
) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"content-type": "application/problem+json", **headers},
        "body": problem_body(status, title, detail).decode(),
        "isBase64Encoded": False,
    }


def _principal(headers: Mapping[str, str]) -> Principal | None:
    value = headers.get("authorization", "")
    scheme, _, token = value.partition(" ")
    if scheme.lower() != "bearer" or not token:
        return None
    try:
        return authenticator.verify(token)
    except InvalidToken:
        return None


def _body(event: Mapping[str, Any], media_type: str) -> dict[str, Any]:
    headers = event.get("headers") or {}
    if headers.get("content-type", "").split(";")[0].strip() != media_type:
        raise _BadRequest("unsupported media type")
    raw = event.get("body") or ""
    text = base64.b64decode(raw).decode() if event.get("isBase64Encoded") else raw
    try:
        body = json.loads(text)
    except ValueError:
        raise _BadRequest("body is not JSON") from None
    if not isinstance(body, dict):
        raise _BadRequest("body is not an object")
    return body


def _check_fields(body: Mapping[str, Any], required: tuple[str, ...], allowed: set[str]) -> None:
    for name in required:
        if name not in body:
            raise _BadRequest(f"'{name}' is a required property")
    for name, value in body.items():
        if name not in allowed:
            raise _BadRequest(f"unknown member '{name}'")
        if name == "code" and not (isinstance(value, str) and _CODE.match(value)):
            raise _BadRequest("code")
        if name == "name" and not (isinstance(value, str) and 1 <= len(value) <= 100):
            raise _BadRequest("name")
        if name == "numericCode" and not (isinstance(value, str) and _NUMERIC.match(value)):
            raise _BadRequest("numericCode")
        if name == "minorUnit" and not _valid_minor_unit(value):
            raise _BadRequest("minorUnit")
        if name == "symbol" and value is not None and not _valid_text(value, 10):
            raise _BadRequest("symbol")


def _valid_minor_unit(value: Any) -> bool:
    if value is None:
        return True
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 4


def _valid_text(value: Any, longest: int) -> bool:
    return isinstance(value, str) and 1 <= len(value) <= longest


def _unconditional(_current: Mapping[str, Any]) -> None:
    return None


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    http = event["requestContext"]["http"]
    method, path = http["method"], event["rawPath"]
    headers = event.get("headers") or {}
    if path == "/health" and method == "GET":
        return _response(200, {"status": "ok"})
    match = _ITEM.match(path)
    if match is None and path != "/currencies":
        return _problem(404, "Not Found", "No such resource.")
    principal = _principal(headers)
    if principal is None:
        return _problem(
            401,
            "Unauthorized",
            "The access token is not valid.",
            {"www-authenticate": f'{_REALM}, error="invalid_token"'},
        )
    needed = READ_SCOPE if method == "GET" else WRITE_SCOPE
    if needed not in principal.grants:
        return _problem(
            403,
            "Forbidden",
            "The access token does not grant this operation.",
            {"www-authenticate": f'{_REALM}, error="insufficient_scope", scope="{needed}"'},
        )
    try:
        if match is not None and method == "GET":
            currency = store.get(match.group(1))
            return _response(200, currency, {"etag": etag_of(currency)})
        if match is None and method == "POST":
            body = _body(event, "application/json")
            _check_fields(
                body, ("code", "name", "numericCode", "minorUnit"), {"code", *WRITABLE_FIELDS}
            )
            currency = store.create(body, principal.subject)
            return _response(
                201,
                currency,
                {"etag": etag_of(currency), "location": f"/currencies/{currency['code']}"},
            )
        if match is not None and method == "PATCH":
            patch = _body(event, "application/merge-patch+json")
            if not patch:
                raise _BadRequest("empty patch")
            _check_fields(patch, (), set(WRITABLE_FIELDS))

            def merge(current: Mapping[str, Any]) -> dict[str, Any]:
                merged = {name: current.get(name) for name in WRITABLE_FIELDS}
                merged.update({name: patch[name] for name in WRITABLE_FIELDS if name in patch})
                return merged

            currency = store.write(match.group(1), merge, principal.subject, _unconditional)
            return _response(200, currency, {"etag": etag_of(currency)})
        if match is None and method == "GET":
            page = store.list(50)
            return _response(200, {"items": page.items, "nextCursor": page.next_cursor})
        if match is not None and method == "DELETE":
            store.delete(match.group(1))
            return {"statusCode": 204, "headers": {}, "body": "", "isBase64Encoded": False}
    except _BadRequest as exc:
        return _problem(400, "Bad Request", str(exc))
    except DomainError as exc:
        return _problem(exc.status, exc.title, str(exc), exc.headers())
    return _problem(405, "Method Not Allowed", "The method is not allowed here.")


# Built: as currency_api/lambda_function.py, what exists now is never collected, and the
# collector runs as usual from here on.
gc.freeze()
gc.enable()
