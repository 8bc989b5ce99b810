"""Loads ISO 4217 currencies into the table: idempotent, batched, conditional."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from currency_api.iso4217 import IsoCurrency
from currency_api.store import (
    HOLDER,
    NUMERIC_KEY_PREFIX,
    PARTITION_KEY,
    TransactionCancelled,
    _dynamodb_errors,
    _from_item,
    _to_item,
    _unchanged_since,
    claim_numeric,
    is_currency_key,
    now_rfc3339,
    release_numeric,
    revision,
    transact,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

#: Currencies per TransactWriteItems call: each takes up to three actions (the currency, its
#: numeric code's reservation, the release of an old one); DynamoDB allows 100 per call.
BATCH: Final = 25
SEED_ACTOR: Final = "iso4217-seed"


class SeedConflict(ValueError):
    """The seed would give one ISO 4217 numeric code to several currencies; nothing was
    written. ``holders`` maps each such numeric code to the currencies that would hold it."""

    def __init__(self, holders: Mapping[str, Sequence[str]], listed: set[str]) -> None:
        self.holders = {code: tuple(names) for code, names in holders.items()}
        parts = [
            f"{numeric} for "
            + " and ".join(f"{c} ({'in the list' if c in listed else 'in the table'})" for c in h)
            for numeric, h in sorted(self.holders.items())
        ]
        super().__init__(
            "each ISO 4217 numeric code belongs to one currency, but the seed would give "
            f"{'; '.join(parts)}. Nothing was written: fix the list (or change the stored "
            "currency through the API) and run seed again."
        )


@dataclass(slots=True)
class SeedSummary:
    """How many currencies were created, updated (ISO fields changed) and left unchanged,
    and how many numeric-code reservations were added for currencies stored without one."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    reserved: int = 0

    def __str__(self) -> str:
        text = f"created {self.created}, updated {self.updated}, unchanged {self.unchanged}"
        return text + (f", numeric codes reserved {self.reserved}" if self.reserved else "")


def _iso_fields(currency: IsoCurrency) -> dict[str, Any]:
    return {
        "name": currency.name,
        "numericCode": currency.numeric_code,
        "minorUnit": currency.minor_unit,
    }


def _table_contents(
    client: DynamoDBClient, table: str
) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    """Every stored currency by code, and every numeric-code reservation (code -> holder)."""
    currencies: dict[str, dict[str, Any]] = {}
    reservations: dict[str, str] = {}
    kwargs: dict[str, Any] = {"TableName": table, "ConsistentRead": True}
    while True:
        with _dynamodb_errors():
            response = client.scan(**kwargs)
        for item in response.get("Items", []):
            key = str(item[PARTITION_KEY]["S"])
            if is_currency_key(key):
                currencies[key] = _from_item(item)
            elif key.startswith(NUMERIC_KEY_PREFIX):
                holder: Any = item.get(HOLDER, {})
                reservations[key.removeprefix(NUMERIC_KEY_PREFIX)] = str(holder.get("S", ""))
        last = response.get("LastEvaluatedKey")
        if last is None:
            return currencies, reservations
        kwargs["ExclusiveStartKey"] = last


def seed(
    client: DynamoDBClient,
    table: str,
    currencies: Iterable[IsoCurrency],
    symbols: Callable[[str], str | None] | None = None,
    progress: Callable[[int], None] | None = None,
) -> SeedSummary:
    """Create missing currencies and update those whose ISO fields differ.

    First the whole table is read and the outcome checked: if a numeric code would belong to
    two currencies (two in the list, or one in the list and another already stored), nothing
    is written. Then each currency is written with its numeric code's reservation (see
    currency_api.store), in transactions of :data:`BATCH` currencies; stored currencies that
    have no reservation yet (a table written before reservations existed) get one, so a seed
    run on an existing table makes its numeric codes unique from then on. Writes are
    conditional (create: the code is absent; update: the version read), so a concurrent writer
    is never overwritten silently; a symbol is only added where the currency has none.
    ``progress`` gets the number of currencies handled, first after the checks.

    Raises:
        SeedConflict: a numeric code would belong to several currencies; nothing written.
        TransactionCancelled: a concurrent write changed the table meanwhile (run it again).
        DependencyUnavailable: DynamoDB is down, throttling or timing out, or no such table.
    """
    wanted = list(currencies)
    stored, reservations = _table_contents(client, table)
    listed = {c.code for c in wanted}
    final = {code: current.get("numericCode") for code, current in stored.items()}
    final.update({c.code: c.numeric_code for c in wanted})
    holders: dict[str, list[str]] = {}
    for code, numeric in sorted(final.items()):
        if numeric:
            holders.setdefault(str(numeric), []).append(code)
    clashes = {numeric: codes for numeric, codes in holders.items() if len(codes) > 1}
    if clashes:
        raise SeedConflict(clashes, listed)

    summary = SeedSummary()
    # Units of work, one per currency; those giving a numeric code up come first, so that a
    # code moving to another currency is released before it is claimed.
    units: list[tuple[bool, bool, list[Any]]] = []  # (releases, written, actions)
    now = now_rfc3339()
    for currency in wanted:
        fields = _iso_fields(currency)
        symbol = symbols(currency.code) if symbols else None
        current = stored.get(currency.code)
        numeric = currency.numeric_code
        claim = [claim_numeric(table, numeric, currency.code)]
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
            put = {
                "Put": {
                    "TableName": table,
                    "Item": _to_item(item),
                    "ConditionExpression": "attribute_not_exists(#pk)",
                    "ExpressionAttributeNames": {"#pk": PARTITION_KEY},
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                }
            }
            units.append((False, True, [put, *claim]))
            summary.created += 1
            continue
        changed = {k: v for k, v in fields.items() if current.get(k) != v}
        if symbol and not current.get("symbol"):
            changed["symbol"] = symbol
        if not changed:
            summary.unchanged += 1
            if reservations.get(numeric) != currency.code:
                units.append((False, False, claim))
                summary.reserved += 1
            continue
        item = revision(current, {**current, **changed}, SEED_ACTOR, now)
        put = {
            "Put": {
                "TableName": table,
                "Item": _to_item(item),
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                **_unchanged_since(current),
            }
        }
        old = current.get("numericCode")
        releases = [release_numeric(table, str(old), currency.code)] if old != numeric else []
        if releases and reservations.get(str(old)) != currency.code:
            releases = []  # it held no reservation to give up
        units.append((bool(releases), True, [put, *claim, *releases]))
        summary.updated += 1
    for code, current in sorted(stored.items()):
        numeric = current.get("numericCode")
        if code not in listed and numeric and reservations.get(str(numeric)) != code:
            units.append((False, False, [claim_numeric(table, str(numeric), code)]))
            summary.reserved += 1
    units.sort(key=lambda unit: not unit[0])

    # Progress counts the list's currencies: those needing no write are done at once.
    done = len(wanted) - summary.created - summary.updated
    if progress:
        progress(done)
    for start in range(0, len(units), BATCH):
        batch = units[start : start + BATCH]
        actions = [action for _, _, unit in batch for action in unit]
        try:
            transact(client, actions)
        except TransactionCancelled as cancelled:
            if not _applied_before(cancelled, actions):
                raise
        done += sum(1 for _, written, _ in batch if written)
        if progress:
            progress(min(done, len(wanted)))
    return summary


def _applied_before(cancelled: TransactionCancelled, actions: list[Any]) -> bool:
    """Whether a cancelled batch had been applied already: botocore retried it after a lost
    response and every failed condition found exactly the item this batch writes. (DynamoDB
    answers such a retry from its idempotency token; an emulator may not.) Reservations and
    releases succeed again for the same holder, so only currency puts can fail this way."""
    failed = [i for i in range(len(actions)) if cancelled.failed(i)]
    return bool(failed) and all(
        "Put" in actions[i] and cancelled.item(i) == actions[i]["Put"]["Item"] for i in failed
    )


def cldr_symbol(code: str) -> str | None:
    """The currency's symbol in CLDR's English locale, or None if CLDR has only the code.

    Needs the optional ``babel`` package (``pip install currency-api[symbols]``).
    """
    from babel.numbers import get_currency_symbol

    symbol = str(get_currency_symbol(code, locale="en"))
    return None if symbol == code or not 1 <= len(symbol) <= 10 else symbol
