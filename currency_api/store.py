"""CurrencyStore: DynamoDB access through the boto3 client, with DynamoDB's quirks absorbed.

Keys, conditional writes (no silent overwrite, optimistic concurrency on ``version``),
``Decimal`` conversion, reserved words (``name`` is one) and opaque, tamper-evident cursors.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from functools import wraps
from typing import TYPE_CHECKING, Any, Concatenate, Final

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.config import Config
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)

from currency_api.problems import (
    CurrencyExists,
    CurrencyNotFound,
    DependencyUnavailable,
    NumericCodeTaken,
    PreconditionFailed,
    RequestInvalid,
    UnknownCursor,
    Violation,
    WriteConflict,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

#: The table's partition key (string). The CDK stack and the local emulator use this too.
PARTITION_KEY: Final = "code"

#: Partition keys of the items that reserve a numeric code for one currency: ``NUMERIC#978``
#: holds ``{"holder": "EUR"}``. Written in the same transaction as the currency (DynamoDB
#: developer guide, "Using transactions ... to enforce unique attributes"), so no two currencies
#: can hold one code. They share the table: no ``code`` a currency may have contains ``#``.
NUMERIC_KEY_PREFIX: Final = "NUMERIC#"
#: The attribute of a numeric-code item naming the currency that holds it.
HOLDER: Final = "holder"

#: Writable fields of a currency, as the spec names them.
WRITABLE_FIELDS: Final = ("name", "numericCode", "minorUnit", "symbol")
#: Every member of a currency in the order of the spec's ``Currency`` properties: the order
#: of every body the API returns (tests/unit/test_spec.py holds the two together).
CURRENCY_FIELDS: Final = (
    "code",
    *WRITABLE_FIELDS,
    "version",
    "createdAt",
    "updatedAt",
    "createdBy",
    "updatedBy",
)

#: Pooled connections per endpoint: at least the worker threads a server may run boto3 calls in
#: (Starlette's thread pool is AnyIO's default limiter, 40 threads). botocore's default of 10
#: makes every call beyond 10 concurrent open and then drop a fresh connection.
MAX_POOL_CONNECTIONS: Final = 40

#: Attempts in all for one DynamoDB call (``total_max_attempts``: botocore's
#: ``max_attempts`` would count retries only, one attempt more).
TOTAL_MAX_ATTEMPTS: Final = 3
#: Seconds to open a connection, and to wait for a response. DynamoDB answers in
#: milliseconds; 2 s is generous.
CONNECT_TIMEOUT_SECONDS: Final = 1.0
READ_TIMEOUT_SECONDS: Final = 2.0

#: boto3 client configuration: standard retry mode, bounded attempts and short timeouts.
#: Together with :data:`TIME_BUDGET_SECONDS` a request ends well inside API Gateway's 30 s
#: integration timeout: see :func:`worst_case_seconds` and docs/reliability.md.
CLIENT_CONFIG: Final = Config(
    retries={"mode": "standard", "total_max_attempts": TOTAL_MAX_ATTEMPTS},
    connect_timeout=CONNECT_TIMEOUT_SECONDS,
    read_timeout=READ_TIMEOUT_SECONDS,
    tcp_keepalive=True,
    max_pool_connections=MAX_POOL_CONNECTIONS,
)

#: Seconds one store operation (which may make several DynamoDB calls: a write reads, writes
#: and may start again) may spend before it stops sending attempts and reports the data store
#: unavailable. Checked before every HTTP attempt, retries included.
TIME_BUDGET_SECONDS: Final = 8.0

#: The deadline of the store operation running in this thread or task, if any.
_DEADLINE: ContextVar[float | None] = ContextVar("currency_api_store_deadline", default=None)

#: DynamoDB error codes that mean "the dependency is down or throttling", not "you erred".
#: Source: DynamoDB API reference, Common Errors and per-operation Errors sections.
UNAVAILABLE_ERROR_CODES: Final = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
        "ResourceNotFoundException",
        "LimitExceededException",
        "TransactionInProgressException",
    }
)

_CODE = re.compile(r"^[A-Z]{3}$")
#: Attempts of a transaction that another transaction cancelled (``TransactionConflict``).
_TRANSACTION_ATTEMPTS: Final = 3
_SERIALIZER = TypeSerializer()
_DESERIALIZER = TypeDeserializer()
_MAC_BYTES = 16
#: Every cursor the codec issues: base64url (RFC 4648 section 5) without padding of the
#: 11-byte payload ``{"c":"EUR"}`` and the MAC, 27 bytes, so always 36 characters. The spec's
#: ``Cursor`` parameter declares exactly this pattern (tests/unit/test_cursor.py compares).
CURSOR_PATTERN: Final = "^[A-Za-z0-9_-]{36}$"
_CURSOR = re.compile(CURSOR_PATTERN)


def _unchanged_since(current: Mapping[str, Any]) -> dict[str, Any]:
    """Condition arguments: the item is still ``current`` (same version, same incarnation)."""
    return {
        "ConditionExpression": "#v = :v AND #c = :c",
        "ExpressionAttributeNames": {"#v": "version", "#c": "createdAt"},
        "ExpressionAttributeValues": {
            ":v": {"N": str(current["version"])},
            ":c": {"S": str(current["createdAt"])},
        },
    }


def revision(
    current: Mapping[str, Any], fields: Mapping[str, Any], actor: str, now: str | None = None
) -> dict[str, Any]:
    """The next version of ``current`` with the writable ``fields``, written by ``actor``.

    Identity (``code``, ``createdAt``, ``createdBy``) is kept; a writable field missing from
    ``fields`` is removed; ``version`` goes up by one; ``updatedAt`` is ``now`` (default: now).
    """
    return {
        **{key: current[key] for key in ("code", "createdAt", "createdBy")},
        **{name: fields.get(name) for name in WRITABLE_FIELDS},
        "version": current["version"] + 1,
        "updatedAt": now or now_rfc3339(),
        "updatedBy": actor,
    }


def table_definition(table_name: str) -> dict[str, Any]:
    """CreateTable arguments for the store's table: on-demand, partition key ``code`` (S)."""
    return {
        "TableName": table_name,
        "KeySchema": [{"AttributeName": PARTITION_KEY, "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": PARTITION_KEY, "AttributeType": "S"}],
        "BillingMode": "PAY_PER_REQUEST",
    }


class DeadlineExceeded(Exception):
    """The store operation ran out of its time budget before a DynamoDB attempt."""


def _refuse_attempts_after_deadline(**_kwargs: Any) -> None:
    """botocore ``before-send`` hook: no HTTP attempt starts after the operation's deadline.

    Raising here ends the call: botocore does not retry exceptions it does not know.
    """
    deadline = _DEADLINE.get()
    if deadline is not None and time.monotonic() >= deadline:
        raise DeadlineExceeded()


def worst_case_seconds(
    attempts: int = TOTAL_MAX_ATTEMPTS,
    connect_timeout: float = CONNECT_TIMEOUT_SECONDS,
    read_timeout: float = READ_TIMEOUT_SECONDS,
    budget: float = TIME_BUDGET_SECONDS,
) -> float:
    """Upper bound, in seconds, of one store operation's wall time.

    No attempt starts after ``budget``; the attempt under way then lasts at most connect +
    read timeout, preceded by at most one backoff sleep. botocore's standard mode sleeps
    ``rand(0, 1) * min(scale * 2 ** i, 20)`` before retry ``i`` (scale 1 s for throttling,
    25 ms otherwise) and up to 5 s more if the service sends ``x-amz-retry-after``
    (botocore.retries.standard.ExponentialBackoff). One DNS name resolving to several
    addresses could multiply the connect time; DynamoDB's regional endpoints resolve to one.
    """
    longest_backoff = min(2.0 ** (attempts - 2), 20.0) + 5.0 if attempts > 1 else 0.0
    return budget + longest_backoff + connect_timeout + read_timeout


@contextmanager
def _time_budget(seconds: float) -> Iterator[None]:
    """Set the deadline of the outermost store operation; nested operations share it."""
    if _DEADLINE.get() is not None:
        yield
        return
    token = _DEADLINE.set(time.monotonic() + seconds)
    try:
        yield
    finally:
        _DEADLINE.reset(token)


def _budgeted[**P, R](
    method: Callable[Concatenate[CurrencyStore, P], R],
) -> Callable[Concatenate[CurrencyStore, P], R]:
    """Run a store method within the store's time budget."""

    @wraps(method)
    def run(self: CurrencyStore, /, *args: P.args, **kwargs: P.kwargs) -> R:
        with _time_budget(self._budget):
            return method(self, *args, **kwargs)

    return run


def create_client(region: str) -> DynamoDBClient:
    """A DynamoDB client with :data:`CLIENT_CONFIG`.

    boto3 honours ``AWS_ENDPOINT_URL_DYNAMODB`` for the emulator, so no endpoint plumbing.
    Build it once per execution environment and pass it in.
    """
    import boto3

    return boto3.session.Session().client("dynamodb", region_name=region, config=CLIENT_CONFIG)


def now_rfc3339() -> str:
    """The current UTC time as RFC 3339 with milliseconds, e.g. ``2026-01-01T00:00:00.000Z``."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a listing: the items and the opaque cursor of the next page (or None)."""

    items: list[dict[str, Any]]
    next_cursor: str | None


def etag_of(currency: Mapping[str, Any]) -> str:
    """The strong entity tag (RFC 9110 section 8.8.3) of a stored currency.

    Derived from ``version`` and the creation time, so that a currency deleted and created
    again never repeats an earlier incarnation's tag.
    """
    created = currency["createdAt"]
    digest = hashlib.blake2s(created.encode(), digest_size=4).hexdigest()
    return f'"{digest}.{currency["version"]}"'


class CursorCodec:
    """Encodes DynamoDB's ``LastEvaluatedKey`` as an opaque, URL-safe, HMAC-signed cursor."""

    def __init__(self, secret: str, table_name: str) -> None:
        # Without a configured secret the key still detects truncation and corruption, but not
        # deliberate forgery: set CURSOR_SECRET in production.
        self._key = hashlib.sha256(f"{secret}\x00{table_name}".encode()).digest()

    def _mac(self, payload: bytes) -> bytes:
        return hmac.new(self._key, payload, hashlib.sha256).digest()[:_MAC_BYTES]

    def encode(self, code: str) -> str:
        payload = json.dumps({"c": code}, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(payload + self._mac(payload)).decode().rstrip("=")

    def decode(self, cursor: str) -> str:
        """The currency code after which the next page starts.

        The form is checked first, exactly as the spec's pattern does (:data:`CURSOR_PATTERN`),
        so the store refuses what the spec refuses and nothing of that form as malformed.

        Raises:
            RequestInvalid: the cursor does not have the form the codec issues (400).
            UnknownCursor: it has the form, but this codec did not issue it, or it was
                altered, or signed with another key (404: no page starts there).
        """
        if not _CURSOR.fullmatch(cursor):
            raise RequestInvalid(
                [Violation(f"must match {CURSOR_PATTERN}", parameter="cursor", location="query")]
            )
        try:
            raw = base64.urlsafe_b64decode(cursor)
        except (binascii.Error, ValueError):  # cannot happen for the pattern; kept as a guard
            raise UnknownCursor() from None
        payload, mac = raw[:-_MAC_BYTES], raw[-_MAC_BYTES:]
        if not hmac.compare_digest(mac, self._mac(payload)):
            raise UnknownCursor()
        try:
            decoded = json.loads(payload)
        except ValueError:
            raise UnknownCursor() from None
        code = decoded.get("c") if isinstance(decoded, dict) else None
        if not isinstance(code, str) or not _CODE.match(code):
            raise UnknownCursor()
        return code


def _to_item(currency: Mapping[str, Any]) -> dict[str, AttributeValueTypeDef]:
    return {
        key: _SERIALIZER.serialize(value)
        for key, value in currency.items()
        if value is not None or key == "minorUnit"
    }


def _from_item(item: Mapping[str, Any]) -> dict[str, Any]:
    """A stored currency, its members in :data:`CURRENCY_FIELDS` order (DynamoDB keeps none)."""
    currency: dict[str, Any] = {}
    for key in (*CURRENCY_FIELDS, *sorted(set(item) - set(CURRENCY_FIELDS))):
        if key not in item:
            if key == "minorUnit":
                currency[key] = None
            continue
        value = _DESERIALIZER.deserialize(item[key])
        if isinstance(value, Decimal):
            value = int(value)
        currency[key] = value
    return currency


@contextmanager
def _dynamodb_errors(code: str | None = None) -> Iterator[None]:
    """Turn botocore's failures into domain exceptions."""
    try:
        yield
    except ClientError as exc:
        error = exc.response.get("Error", {}).get("Code", "")
        if error == "ConditionalCheckFailedException" and code is not None:
            old: Any = exc.response.get("Item")
            raise _ConditionFailed(code, old) from None
        if error in UNAVAILABLE_ERROR_CODES:
            raise DependencyUnavailable("data store") from None
        raise
    except (
        EndpointConnectionError,
        ConnectTimeoutError,
        ReadTimeoutError,
        ConnectionClosedError,
        DeadlineExceeded,
    ):
        raise DependencyUnavailable("data store") from None


class _ConditionFailed(Exception):
    def __init__(self, code: str, item: Mapping[str, Any] | None = None) -> None:
        super().__init__(code)
        self.code = code
        #: The item that failed the condition (``ReturnValuesOnConditionCheckFailure``).
        self.item = item

    def found(self, written: Mapping[str, Any]) -> bool:
        """Whether the item in the table is exactly the one we tried to write.

        Then the condition failed on our own earlier attempt: botocore retried a write whose
        response was lost (a read timeout after DynamoDB applied it). The write succeeded.
        """
        return self.item is not None and dict(self.item) == dict(written)


#: Decides whether a write may go ahead, given the current currency (raises if not).
Precondition = Callable[[Mapping[str, Any]], None]


def numeric_key(numeric_code: str) -> str:
    """The partition key of the item that reserves ``numeric_code``: ``NUMERIC#978``."""
    return f"{NUMERIC_KEY_PREFIX}{numeric_code}"


def is_currency_key(key: str) -> bool:
    """Whether a partition key is a currency's (not a numeric-code reservation)."""
    return _CODE.match(key) is not None


def claim_numeric(table: str, numeric_code: str, holder: str) -> dict[str, Any]:
    """TransactWriteItems ``Put`` that reserves ``numeric_code`` for ``holder``: it fails if
    another currency holds it, and succeeds again for the same holder (idempotent)."""
    return {
        "Put": {
            "TableName": table,
            "Item": {PARTITION_KEY: {"S": numeric_key(numeric_code)}, HOLDER: {"S": holder}},
            "ConditionExpression": "attribute_not_exists(#pk) OR #h = :h",
            "ExpressionAttributeNames": {"#pk": PARTITION_KEY, "#h": HOLDER},
            "ExpressionAttributeValues": {":h": {"S": holder}},
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
    }


def release_numeric(table: str, numeric_code: str, holder: str) -> dict[str, Any]:
    """TransactWriteItems ``Delete`` of ``holder``'s reservation of ``numeric_code``; a
    missing one (a table written before reservations existed) is no failure."""
    return {
        "Delete": {
            "TableName": table,
            "Key": {PARTITION_KEY: {"S": numeric_key(numeric_code)}},
            "ConditionExpression": "attribute_not_exists(#pk) OR #h = :h",
            "ExpressionAttributeNames": {"#pk": PARTITION_KEY, "#h": HOLDER},
            "ExpressionAttributeValues": {":h": {"S": holder}},
        }
    }


class TransactionCancelled(Exception):
    """A TransactWriteItems call was cancelled; ``reasons`` has one entry per action.

    Each reason is DynamoDB's ``{"Code": ..., "Item": ...}`` (``Code`` ``None`` for actions that
    did not fail; ``Item`` with ``ReturnValuesOnConditionCheckFailure``). Source: DynamoDB API
    reference, TransactWriteItems, ``TransactionCanceledException``.
    """

    def __init__(self, reasons: list[Mapping[str, Any]]) -> None:
        super().__init__([reason.get("Code") for reason in reasons])
        self.reasons = reasons

    def failed(self, index: int) -> bool:
        """Whether the condition of action ``index`` failed."""
        return (
            index < len(self.reasons)
            and self.reasons[index].get("Code") == "ConditionalCheckFailed"
        )

    def item(self, index: int) -> Mapping[str, Any] | None:
        """The item that failed action ``index``'s condition, if DynamoDB returned it."""
        return self.reasons[index].get("Item") if index < len(self.reasons) else None

    def holder(self, index: int) -> str:
        """The currency holding the numeric code that action ``index`` tried to claim."""
        item = self.item(index) or {}
        return str((item.get(HOLDER) or {}).get("S", "another currency"))


def transact(client: DynamoDBClient, actions: list[Any]) -> None:
    """TransactWriteItems with the store's error mapping.

    botocore fills ``ClientRequestToken`` (DynamoDB's idempotency token) once per call and keeps
    it across retries, so a retry after a lost response does not apply the actions twice.

    Raises:
        TransactionCancelled: an action's condition failed, or another transaction conflicted.
        DependencyUnavailable: DynamoDB is down, throttling or timing out.
    """
    try:
        with _dynamodb_errors():
            client.transact_write_items(TransactItems=actions)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "TransactionCanceledException":
            raise
        reasons: Any = exc.response.get("CancellationReasons") or []
        raise TransactionCancelled(list(reasons)) from None


class CurrencyStore:
    """Currencies in one DynamoDB table, keyed by ``code``.

    Every write is conditional: creates must not find the code, replacements and patches
    must find the version they read. All methods block (boto3); run them off the event loop
    on a server. Each public method has ``time_budget`` seconds: no DynamoDB attempt (retries
    included) starts after that, so a slow or failing DynamoDB gives DependencyUnavailable
    within :func:`worst_case_seconds`.
    """

    def __init__(
        self,
        client: DynamoDBClient,
        table_name: str,
        cursor_secret: str = "",
        time_budget: float = TIME_BUDGET_SECONDS,
    ) -> None:
        self._client = client
        self._table = table_name
        self._cursors = CursorCodec(cursor_secret, table_name)
        self._budget = time_budget
        # unique_id: many stores may share one client (tests); the hook is registered once.
        client.meta.events.register(
            "before-send.dynamodb",
            _refuse_attempts_after_deadline,
            unique_id="currency_api.store.deadline",
        )

    @property
    def table_name(self) -> str:
        return self._table

    @_budgeted
    def get(self, code: str) -> dict[str, Any]:
        """The currency with this code.

        Raises:
            CurrencyNotFound: no currency has the code.
            DependencyUnavailable: DynamoDB is down, throttling or timing out.
        """
        with _dynamodb_errors():
            response = self._client.get_item(
                TableName=self._table,
                Key={PARTITION_KEY: {"S": code}},
                ConsistentRead=True,
            )
        item = response.get("Item")
        if item is None:
            raise CurrencyNotFound(code)
        return _from_item(item)

    @_budgeted
    def list(self, limit: int, cursor: str | None = None) -> Page:
        """One page of at most ``limit`` currencies, in DynamoDB's key order.

        Walking ``next_cursor`` until it is None yields every currency exactly once. DynamoDB
        may return fewer than ``limit`` items (even none) with more to come; the loop keeps
        reading so a page is short only at the end.

        Raises:
            RequestInvalid: the cursor does not have the form the API issues.
            UnknownCursor: the cursor was not issued here, or was altered.
            DependencyUnavailable: DynamoDB is down, throttling or timing out.
        """
        start = self._cursors.decode(cursor) if cursor else None
        items: list[dict[str, Any]] = []
        while len(items) < limit:
            kwargs: dict[str, Any] = {"TableName": self._table, "Limit": limit - len(items)}
            if start is not None:
                kwargs["ExclusiveStartKey"] = {PARTITION_KEY: {"S": start}}
            with _dynamodb_errors():
                response = self._client.scan(**kwargs)
            items.extend(
                _from_item(item)
                for item in response.get("Items", [])
                if is_currency_key(item[PARTITION_KEY]["S"])
            )
            last = response.get("LastEvaluatedKey")
            if last is None:
                return Page(items, None)
            start = str(last[PARTITION_KEY]["S"])
        return Page(items, self._cursors.encode(items[-1]["code"]))

    @_budgeted
    def create(self, fields: Mapping[str, Any], actor: str) -> dict[str, Any]:
        """Store a new currency at version 1.

        A retried attempt that finds the very item an earlier attempt wrote (its response was
        lost) is a success, not a conflict; likewise in :meth:`write`.

        The currency and its numeric code's reservation are written in one transaction.

        Raises:
            CurrencyExists: the code is taken (a conditional write: nothing is overwritten).
            NumericCodeTaken: another currency holds the numeric code.
            WriteConflict: other transactions cancelled every attempt.
            DependencyUnavailable: DynamoDB is down, throttling or timing out.
        """
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
        item = _to_item(currency)
        code, numeric = str(currency["code"]), str(currency["numericCode"])
        put = {
            "Put": {
                "TableName": self._table,
                "Item": item,
                "ConditionExpression": "attribute_not_exists(#pk)",
                "ExpressionAttributeNames": {"#pk": PARTITION_KEY},
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }
        }
        for _ in range(_TRANSACTION_ATTEMPTS):
            try:
                transact(self._client, [put, claim_numeric(self._table, numeric, code)])
            except TransactionCancelled as cancelled:
                if cancelled.failed(0):
                    if _ConditionFailed(code, cancelled.item(0)).found(item):
                        break
                    raise CurrencyExists(code) from None
                if cancelled.failed(1):
                    raise NumericCodeTaken(numeric, cancelled.holder(1)) from None
                continue  # another transaction touched an item: try again
            break
        else:
            raise WriteConflict(code)
        return _from_item(item)

    @_budgeted
    def write(
        self,
        code: str,
        change: Callable[[Mapping[str, Any]], Mapping[str, Any]],
        actor: str,
        precondition: Precondition | None = None,
        attempts: int = 3,
    ) -> dict[str, Any]:
        """Read, change and write back one currency with optimistic concurrency.

        ``change`` gets the current currency and returns the new writable fields; the
        write succeeds only if the currency is still the one read: the same ``version`` of
        the same incarnation (``createdAt``: a currency deleted and created again starts over
        at version 1). When another writer won the race, the read-change-write runs again
        (at most ``attempts`` times), re-checking ``precondition`` against what it reads.

        Raises:
            CurrencyNotFound: no currency has the code.
            PreconditionFailed: ``precondition`` refused (also after losing a race).
            NumericCodeTaken: the change gives the currency a numeric code another holds.
            WriteConflict: no precondition, and other writers won every attempt.
            DependencyUnavailable: DynamoDB is down, throttling or timing out.
        """
        release = True
        for _ in range(attempts):
            current = self.get(code)
            if precondition is not None:
                precondition(current)
            new = revision(current, change(current), actor)
            item = _to_item(new)
            old_numeric, new_numeric = current.get("numericCode"), new.get("numericCode")
            if old_numeric == new_numeric:
                try:
                    with _dynamodb_errors(code):
                        self._client.put_item(
                            TableName=self._table,
                            Item=item,
                            ReturnValuesOnConditionCheckFailure="ALL_OLD",
                            **_unchanged_since(current),
                        )
                except _ConditionFailed as failed:
                    if not failed.found(item):
                        continue
                return _from_item(item)
            # Renumbering: the currency, the new code's reservation and the old one's release
            # in one transaction.
            actions = [
                {
                    "Put": {
                        "TableName": self._table,
                        "Item": item,
                        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                        **_unchanged_since(current),
                    }
                },
                claim_numeric(self._table, str(new_numeric), code),
            ]
            if old_numeric and release:
                actions.append(release_numeric(self._table, str(old_numeric), code))
            try:
                transact(self._client, actions)
            except TransactionCancelled as cancelled:
                if cancelled.failed(0):
                    if _ConditionFailed(code, cancelled.item(0)).found(item):
                        return _from_item(item)
                    continue
                if cancelled.failed(1):
                    raise NumericCodeTaken(str(new_numeric), cancelled.holder(1)) from None
                release = release and not cancelled.failed(2)  # as in delete
                continue
            return _from_item(item)
        raise WriteConflict(code)

    @_budgeted
    def delete(self, code: str, precondition: Precondition | None = None) -> None:
        """Delete one currency; with a ``precondition``, only if it accepts the current state.

        The currency and its numeric code's reservation go in one transaction.

        Raises:
            CurrencyNotFound: no currency has the code.
            PreconditionFailed: ``precondition`` refused, or the currency changed meanwhile.
            WriteConflict: no precondition, and other writers won every attempt.
            DependencyUnavailable: DynamoDB is down, throttling or timing out.
        """
        release = True
        for _ in range(_TRANSACTION_ATTEMPTS):
            current = self.get(code)
            if precondition is not None:
                precondition(current)
            # The currency goes with its numeric code's reservation, if it was the holder.
            actions: list[Any] = [
                {
                    "Delete": {
                        "TableName": self._table,
                        "Key": {PARTITION_KEY: {"S": code}},
                        **_unchanged_since(current),
                    }
                }
            ]
            if current.get("numericCode") and release:
                actions.append(release_numeric(self._table, str(current["numericCode"]), code))
            try:
                transact(self._client, actions)
            except TransactionCancelled as cancelled:
                if cancelled.failed(0) and precondition is not None:
                    # Changed since the precondition was checked: it held for another version.
                    raise PreconditionFailed(code) from None
                # Another currency holds the old code's reservation (data written before
                # reservations, see seed): leave it to that one.
                release = release and not cancelled.failed(1)
                continue  # changed or deleted meanwhile (read again), or a conflict
            return
        raise WriteConflict(code)

    def ensure_table(self) -> bool:
        """Create the table if it does not exist (local runs and tests). True if created."""
        try:
            self._client.create_table(**table_definition(self._table))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ResourceInUseException":
                return False
            raise
        self._client.get_waiter("table_exists").wait(TableName=self._table)
        return True
