"""MemoryStore: CurrencyStore's interface and semantics, answering from a dict.

Both benchmarked apps get this store, so the comparison times the web stack, not the network.
Items are kept in DynamoDB's attribute-value form and converted with the store's own
serializer, so the per-request conversion work is the same as against DynamoDB.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final

from currency_api.problems import CurrencyExists, CurrencyNotFound
from currency_api.store import (
    WRITABLE_FIELDS,
    CurrencyStore,
    Page,
    Precondition,
    _from_item,
    _to_item,
    now_rfc3339,
    revision,
)

#: The currency every benchmark reads and patches.
EURO: Final = {"code": "EUR", "name": "Euro", "numericCode": "978", "minorUnit": 2}


class MemoryStore(CurrencyStore):
    """An in-memory CurrencyStore for one process (no locking: Lambda runs one request at a
    time). The boto3 client it is given is kept, as CurrencyStore keeps it, but never called."""

    def __init__(
        self,
        client: Any,
        table_name: str,
        cursor_secret: str = "",
        currencies: Iterable[Mapping[str, Any]] = (),
    ) -> None:
        super().__init__(client, table_name, cursor_secret)
        self._items: dict[str, dict[str, Any]] = {}
        for currency in currencies:
            self.create(currency, "bench")

    def get(self, code: str) -> dict[str, Any]:
        item = self._items.get(code)
        if item is None:
            raise CurrencyNotFound(code)
        return _from_item(item)

    def list(self, limit: int, cursor: str | None = None) -> Page:
        start = self._cursors.decode(cursor) if cursor else None
        codes = sorted(c for c in self._items if start is None or c > start)
        page = [_from_item(self._items[c]) for c in codes[:limit]]
        more = len(codes) > limit
        return Page(page, self._cursors.encode(page[-1]["code"]) if more else None)

    def create(self, fields: Mapping[str, Any], actor: str) -> dict[str, Any]:
        now = now_rfc3339()
        currency = {
            "code": fields["code"],
            **{name: fields.get(name) for name in WRITABLE_FIELDS},
            "version": 1,
            "createdAt": now,
            "updatedAt": now,
            "createdBy": actor,
            "updatedBy": actor,
        }
        if fields["code"] in self._items:
            raise CurrencyExists(fields["code"])
        item = _to_item(currency)
        self._items[fields["code"]] = item
        return _from_item(item)

    def write(
        self,
        code: str,
        change: Callable[[Mapping[str, Any]], Mapping[str, Any]],
        actor: str,
        precondition: Precondition | None = None,
        attempts: int = 3,
    ) -> dict[str, Any]:
        current = self.get(code)
        if precondition is not None:
            precondition(current)
        item = _to_item(revision(current, change(current), actor))
        self._items[code] = item
        return _from_item(item)

    def delete(self, code: str, precondition: Precondition | None = None) -> None:
        current = self.get(code)
        if precondition is not None:
            precondition(current)
        del self._items[code]

    def discard(self, code: str) -> None:
        """Remove a currency if present (benchmark housekeeping between timed batches)."""
        self._items.pop(code, None)

    def ensure_table(self) -> bool:
        return False
