"""Currency operations: one function per operationId in spec/openapi.yaml.

Handlers raise domain exceptions (currency_api.problems); they never format errors.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from connexion.context import scope
from starlette.datastructures import Headers

from currency_api import services
from currency_api.auth import current_principal
from currency_api.middleware import joined_field
from currency_api.problems import PreconditionFailed, RequestInvalid, Violation
from currency_api.store import WRITABLE_FIELDS, Precondition, etag_of

Response = tuple[Any, int, dict[str, str]]

_JSON = "application/json"
# RFC 9110 section 8.8.3: entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE, etagc = %x21 / %x23-7E /
# obs-text; a list is comma-separated with optional white space.
_ENTITY_TAG = r'(W/)?"([\x21\x23-\x7e\x80-\xff]*)"'
_ENTITY_TAG_ITEM = re.compile(rf"[ \t]*{_ENTITY_TAG}[ \t]*")


def _json(body: Any, status: int, **headers: str) -> Response:
    return body, status, {"Content-Type": _JSON, **headers}


def _actor() -> str:
    return current_principal().subject


def _conditional_header(name: str) -> str | None:
    """A conditional header's value; repeated fields are joined as one list (RFC 9110 5.3),
    as parameter validation joined them."""
    return joined_field(Headers(scope=scope), name)


def _entity_tags(header: str) -> list[tuple[bool, str]]:
    """Entity tags of an If-Match / If-None-Match list as (weak, opaque-tag) pairs.

    A list that is not entirely entity-tags (``junk "x"``, ``w/"x"``) names none: it matches
    nothing, so an If-Match of it fails and an If-None-Match of it is ignored.
    """
    tags: list[tuple[bool, str]] = []
    for item in header.split(","):
        if not item.strip():
            continue
        match = _ENTITY_TAG_ITEM.fullmatch(item)
        if match is None:
            return []
        tags.append((bool(match.group(1)), f'"{match.group(2)}"'))
    return tags


def _if_match(code: str) -> Precondition | None:
    """The If-Match precondition (RFC 9110 section 13.1.1: strong comparison), if any."""
    header = _conditional_header("if-match")
    if header is None:
        return None
    wanted = header.strip()
    tags = {tag for weak, tag in _entity_tags(wanted) if not weak}

    def check(current: Mapping[str, Any]) -> None:
        if wanted == "*":
            return
        if etag_of(current) not in tags:
            raise PreconditionFailed(code)

    return check


async def list_currencies(limit: int = 50, cursor: str | None = None) -> Response:
    svc = services.current()
    page = await svc.run(svc.store.list, limit, cursor)
    return _json({"items": page.items, "nextCursor": page.next_cursor}, 200)


async def create_currency(body: dict[str, Any]) -> Response:
    svc = services.current()
    currency = await svc.run(svc.store.create, body, _actor())
    location = services.public_path(f"/currencies/{currency['code']}")
    return _json(currency, 201, Location=location, ETag=etag_of(currency))


async def get_currency(code: str) -> Response:
    svc = services.current()
    currency = await svc.run(svc.store.get, code)
    etag = etag_of(currency)
    header = _conditional_header("if-none-match")
    # Weak comparison (RFC 9110 section 13.1.2).
    if header is not None and (
        header.strip() == "*" or etag in {tag for _, tag in _entity_tags(header)}
    ):
        return None, 304, {"ETag": etag, "Content-Type": _JSON}
    return _json(currency, 200, ETag=etag)


async def replace_currency(code: str, body: dict[str, Any]) -> Response:
    if body.get("code", code) != code:
        # `code` is read-only in CurrencyReplace: the path names the currency (docs/contract.md).
        raise RequestInvalid(
            [Violation(f"must be the path's code '{code}' or left out", pointer="/code")],
            f"The body's code '{body['code']}' differs from the code '{code}' in the path.",
        )
    svc = services.current()
    currency = await svc.run(
        svc.store.write,
        code,
        lambda _current: body,
        _actor(),
        _if_match(code),
    )
    return _json(currency, 200, ETag=etag_of(currency))


async def update_currency(code: str, body: dict[str, Any]) -> Response:
    def merge(current: Mapping[str, Any]) -> dict[str, Any]:
        # JSON Merge Patch (RFC 7396) on a flat object: null removes, anything else replaces.
        merged = {name: current.get(name) for name in WRITABLE_FIELDS}
        merged.update({name: body[name] for name in WRITABLE_FIELDS if name in body})
        return merged

    svc = services.current()
    currency = await svc.run(svc.store.write, code, merge, _actor(), _if_match(code))
    return _json(currency, 200, ETag=etag_of(currency))


async def delete_currency(code: str) -> Response:
    svc = services.current()
    await svc.run(svc.store.delete, code, _if_match(code))
    return None, 204, {"Content-Type": _JSON}
