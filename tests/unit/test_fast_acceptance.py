"""fastjsonschema's quick acceptance of request bodies (connexion_extensions.accepts) never
accepts what jsonschema, which decides and describes refusals, refuses."""

from __future__ import annotations

from typing import Any

import pytest
from connexion.json_schema import Draft4RequestValidator
from jsonschema import Draft4Validator

from currency_api.connexion_extensions import accepts
from currency_api.spec_document import load_spec

DOCUMENT = load_spec()
VALID_REPLACE = {"name": "Euro", "numericCode": "978", "minorUnit": 2}


def _body_schema(name: str) -> dict[str, Any]:
    """A component schema as Connexion hands it to body validators: a reference with the
    document's components beside it."""
    return {"$ref": f"#/components/schemas/{name}", "components": DOCUMENT["components"]}


def _jsonschema_accepts(schema: dict[str, Any], body: Any) -> bool:
    validator = Draft4RequestValidator(schema, format_checker=Draft4Validator.FORMAT_CHECKER)
    return bool(validator.is_valid(body))


@pytest.mark.parametrize(
    "stamp",
    [
        "2026-01-01T23:59:60Z",  # a leap second: fastjsonschema's own date-time takes it
        "2026-01-01T00:00:00+0100",  # an offset without a colon
        "0000-01-01T00:00:00Z",
        "\u0662\u0660\u0662\u0666-01-01T00:00:00Z",  # Arabic-Indic digits
        "2026-01-01T00:00:00.\u0663Z",
    ],
)
def test_a_date_time_jsonschema_refuses_is_not_accepted(stamp: str) -> None:
    schema = _body_schema("CurrencyReplace")
    body = {**VALID_REPLACE, "createdAt": stamp}
    assert not _jsonschema_accepts(schema, body)
    assert not accepts(schema, body)


def test_a_valid_body_is_accepted_by_both() -> None:
    schema = _body_schema("CurrencyReplace")
    body = {**VALID_REPLACE, "createdAt": "2026-01-01T00:00:00Z"}
    assert _jsonschema_accepts(schema, body)
    assert accepts(schema, body)


def test_a_schema_fastjsonschema_cannot_compile_is_left_to_jsonschema() -> None:
    # fastjsonschema rewrites every "$" of a pattern, also one inside a character class.
    schema = {
        "type": "object",
        "properties": {"symbol": {"type": "string", "pattern": "^[A-Z$]{1,3}$"}},
    }
    assert _jsonschema_accepts(schema, {"symbol": "US$"})
    assert accepts(schema, {"symbol": "US$"}) is False


def test_a_parameter_check_is_generated_only_at_its_schemas_nth_use() -> None:
    from currency_api import connexion_extensions as ce

    schema = {"type": "string", "pattern": "^[A-Z]{3}$", "minLength": 3, "maxLength": 3}
    answers = [ce.accepts_once_used(schema, "EUR", after=5) for _ in range(6)]
    assert answers == [False, False, False, False, True, True]
    assert ce.accepts_once_used(schema, "eur", after=5) is False
    assert ce.accepts_once_used(schema, "EURO", after=5) is False
    other = {"type": "integer", "minimum": 1, "maximum": 100}
    assert ce.accepts_once_used(other, 5, after=1) is True
    assert ce.accepts_once_used(other, 101, after=1) is False


def test_a_parameter_string_once_accepted_is_remembered_and_a_refusal_never() -> None:
    from currency_api import connexion_extensions as ce

    schema = {"type": "string", "pattern": "^[A-Z]{3}$"}
    assert ce.accepts_once_used(schema, "EUR", after=1) is True  # generates the check
    assert id(schema) not in ce._ACCEPTED
    assert ce.accepts_once_used(schema, "EUR", after=1) is True
    remembered = ce._ACCEPTED[id(schema)][1]
    assert remembered == {"EUR"}
    assert ce.accepts_once_used(schema, "eur", after=1) is False
    assert ce.accepts_once_used(schema, "eur", after=1) is False  # checked again, not kept
    assert remembered == {"EUR"}
    # The remembered answer is the check's: a copy of the schema (another object) has its own.
    twin = dict(schema)
    assert ce.accepts_once_used(twin, "EUR", after=1) is True
    assert ce.accepts_once_used(twin, "EUR", after=1) is True
    assert ce._ACCEPTED[id(twin)][1] == {"EUR"}
    # Long strings are checked every time; the set stays bounded.
    long_value = "A" * (ce._REMEMBERED_LENGTH + 1)
    long_schema = {"type": "string", "maxLength": 1000}
    for _ in range(2):
        assert ce.accepts_once_used(long_schema, long_value, after=1) is True
    assert id(long_schema) not in ce._ACCEPTED
    for number in range(ce._REMEMBERED_VALUES * 2 + 7):
        ce.accepts_once_used(long_schema, f"v{number}", after=1)
    assert 0 < len(ce._ACCEPTED[id(long_schema)][1]) <= ce._REMEMBERED_VALUES


def test_a_remembered_string_is_what_the_check_accepts(monkeypatch: pytest.MonkeyPatch) -> None:
    from currency_api import connexion_extensions as ce

    schema = {"type": "string", "pattern": "^[A-Z]{3}$"}
    calls: list[Any] = []
    real = ce._passes

    def counting(check: Any, instance: Any) -> bool:
        calls.append(instance)
        return real(check, instance)

    monkeypatch.setattr(ce, "_passes", counting)
    for _ in range(5):
        assert ce.accepts_once_used(schema, "USD", after=1) is True
    assert calls == ["USD", "USD"]  # at generation, then once more: then remembered


def test_priming_finds_every_pattern_and_only_patterns() -> None:
    from currency_api.connexion_extensions import _patterns

    schema = {
        "type": "object",
        "properties": {
            "name": {"type": "string", "pattern": "^[A-Z]{3}$"},
            # A property named "pattern" is a schema, not a regular expression.
            "pattern": {"type": "string", "pattern": "^x$"},
            "tags": {"type": "array", "items": [{"pattern": "^t"}]},
        },
        "anyOf": [{"pattern": "^a"}, {"minLength": 1}],
    }
    assert sorted(_patterns(schema)) == ["^[A-Z]{3}$", "^a", "^t", "^x$"]
