"""Loads ISO 4217 currencies into the table: idempotent, batched, conditional."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from currency_api.iso4217 import IsoCurrency
from currency_api.store import (
    PARTITION_KEY,
    _dynamodb_errors,
    _from_item,
    _to_item,
    _unchanged_since,
    now_rfc3339,
    revision,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

#: Items per TransactWriteItems call (DynamoDB allows up to 100; 25 keeps each call small).
BATCH: Final = 25
#: Keys per BatchGetItem call (DynamoDB's limit).
GET_BATCH: Final = 100
SEED_ACTOR: Final = "iso4217-seed"


@dataclass(slots=True)
class SeedSummary:
    """How many currencies were created, updated (ISO fields changed) and left unchanged."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def __str__(self) -> str:
        return f"created {self.created}, updated {self.updated}, unchanged {self.unchanged}"


def _iso_fields(currency: IsoCurrency) -> dict[str, Any]:
    return {
        "name": currency.name,
        "numericCode": currency.numeric_code,
        "minorUnit": currency.minor_unit,
    }


def _existing(
    client: DynamoDBClient, table: str, codes: Sequence[str]
) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for start in range(0, len(codes), GET_BATCH):
        keys: list[Any] = [
            {PARTITION_KEY: {"S": code}} for code in codes[start : start + GET_BATCH]
        ]
        while keys:
            with _dynamodb_errors():
                response = client.batch_get_item(
                    RequestItems={table: {"Keys": keys, "ConsistentRead": True}}
                )
            for item in response.get("Responses", {}).get(table, []):
                currency = _from_item(item)
                found[currency["code"]] = currency
            unprocessed = response.get("UnprocessedKeys") or {}
            keys = list(unprocessed[table]["Keys"]) if table in unprocessed else []
    return found


def seed(
    client: DynamoDBClient,
    table: str,
    currencies: Iterable[IsoCurrency],
    symbols: Callable[[str], str | None] | None = None,
    progress: Callable[[int], None] | None = None,
) -> SeedSummary:
    """Create missing currencies and update those whose ISO fields differ.

    Writes are conditional (create: the code is absent; update: the version read), in
    transactions of :data:`BATCH`, so a concurrent writer is never overwritten silently; a
    symbol is only added where the currency has none. ``progress`` gets the number of
    currencies handled after each batch.

    Raises:
        DependencyUnavailable: DynamoDB is down, throttling or timing out.
        botocore.exceptions.ClientError: a transaction was cancelled (a concurrent write).
    """
    wanted = list(currencies)
    existing = _existing(client, table, [c.code for c in wanted])
    summary = SeedSummary()
    writes: list[Any] = []
    now = now_rfc3339()
    for currency in wanted:
        fields = _iso_fields(currency)
        symbol = symbols(currency.code) if symbols else None
        current = existing.get(currency.code)
        if current is None:
            item = {
                "code": currency.code,
                **fields,
                "symbol": symbol,
                "version": 1,
                "createdAt": now,
                "updatedAt": now,
                "createdBy": SEED_ACTOR,
                "updatedBy": SEED_ACTOR,
            }
            writes.append(
                {
                    "Put": {
                        "TableName": table,
                        "Item": _to_item(item),
                        "ConditionExpression": "attribute_not_exists(#pk)",
                        "ExpressionAttributeNames": {"#pk": PARTITION_KEY},
                    }
                }
            )
            summary.created += 1
            continue
        changed = {k: v for k, v in fields.items() if current.get(k) != v}
        if symbol and not current.get("symbol"):
            changed["symbol"] = symbol
        if not changed:
            summary.unchanged += 1
            continue
        item = revision(current, {**current, **changed}, SEED_ACTOR, now)
        writes.append(
            {"Put": {"TableName": table, "Item": _to_item(item), **_unchanged_since(current)}}
        )
        summary.updated += 1
    done = summary.unchanged
    if progress:
        progress(done)
    for start in range(0, len(writes), BATCH):
        batch = writes[start : start + BATCH]
        with _dynamodb_errors():
            client.transact_write_items(TransactItems=batch)
        done += len(batch)
        if progress:
            progress(done)
    return summary


def cldr_symbol(code: str) -> str | None:
    """The currency's symbol in CLDR's English locale, or None if CLDR has only the code.

    Needs the optional ``babel`` package (``pip install currency-api[symbols]``).
    """
    from babel.numbers import get_currency_symbol

    symbol = str(get_currency_symbol(code, locale="en"))
    return None if symbol == code or not 1 <= len(symbol) <= 10 else symbol
