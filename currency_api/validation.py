"""Request validation that reports every violation in the spec's terms (RFC 9457 problems
with an ``errors`` member), built from jsonschema's structured errors, never their text.

Connexion's validators stop at the first error and describe it in Python terms
(``None is not of type 'string' - 'name'``, ``'eur' does not match '^[A-Z]{3}$'``). The
subclasses here run the same schemas (compiled once, :mod:`currency_api.connexion_extensions`)
and raise :class:`~currency_api.problems.RequestInvalid`, whose violations name
``query parameter 'limit'``, ``path parameter 'code'``, ``header 'If-Match'`` or a body
member by JSON Pointer (RFC 6901), with JSON names (``null``, ``true``).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Iterator, Mapping
from itertools import islice
from typing import Any, Final

from connexion.utils import is_null, is_nullable
from jsonschema import ValidationError
from starlette.datastructures import Headers
from starlette.types import Receive, Scope

from currency_api import connexion_extensions
from currency_api.middleware import joined_field
from currency_api.problems import Location, RequestInvalid, Violation, shown

#: Most violations listed in one problem: enough to fix a request, bounded work for a hostile one.
MAX_VIOLATIONS: Final = 20

#: Longest pattern quoted in a violation, in characters; longer ones are referred to.
MAX_PATTERN_SHOWN: Final = 120

#: JSON Schema type names as a sentence says them.
_TYPE_WORDS: Final = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "object": "an object",
    "array": "an array",
    "null": "null",
}


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _type_words(expected: Any) -> str:
    names = expected if isinstance(expected, list) else [expected]
    return " or ".join(_TYPE_WORDS.get(str(name), str(name)) for name in names)


def _plural(count: Any, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def describe(error: ValidationError) -> str:
    """What a jsonschema error says, from its ``validator`` keyword and ``validator_value``:
    ``must be at least 1``, ``must not be null``, ``must match ^[A-Z]{3}$``."""
    keyword = error.validator
    value = error.validator_value
    schema: Mapping[str, Any] = error.schema if isinstance(error.schema, Mapping) else {}
    if keyword == "type":
        if error.instance is None:
            return "must not be null"
        return f"must be {_type_words(value)}"
    if keyword == "minimum":
        return (
            f"must be greater than {_json(value)}"
            if schema.get("exclusiveMinimum") is True
            else f"must be at least {_json(value)}"
        )
    if keyword == "maximum":
        return (
            f"must be less than {_json(value)}"
            if schema.get("exclusiveMaximum") is True
            else f"must be at most {_json(value)}"
        )
    if keyword == "minLength":
        return f"must be at least {_plural(value, 'character')} long"
    if keyword == "maxLength":
        return f"must be at most {_plural(value, 'character')} long"
    if keyword == "pattern":
        # A long pattern (the text rule of names spans 1.5 KB) would drown the sentence.
        if len(str(value)) > MAX_PATTERN_SHOWN:
            return "must match the pattern its schema gives in the spec"
        return f"must match {value}"
    if keyword == "enum":
        return f"must be one of {_json(value)}"
    if keyword == "const":
        return f"must be {_json(value)}"
    if keyword == "format":
        return f"must be a valid {value}"
    if keyword == "multipleOf":
        return f"must be a multiple of {_json(value)}"
    if keyword == "minProperties":
        return f"must have at least {_plural(value, 'member')}"
    if keyword == "maxProperties":
        return f"must have at most {_plural(value, 'member')}"
    if keyword == "minItems":
        return f"must have at least {_plural(value, 'item')}"
    if keyword == "maxItems":
        return f"must have at most {_plural(value, 'item')}"
    if keyword == "uniqueItems":
        return "must not repeat an item"
    if keyword == "required":
        return "is required"
    if keyword == "additionalProperties":
        return "is not a member of this object"
    if keyword in ("anyOf", "oneOf") and error.context:
        # One alternative per branch, each described by its first error.
        branches: dict[Any, str] = {}
        for inner in error.context:
            branch = inner.schema_path[0] if inner.schema_path else None
            branches.setdefault(branch, describe(inner))
        return " or ".join(dict.fromkeys(branches.values()))
    return "does not match its schema"


def pointer(path: Iterable[Any]) -> str:
    """The JSON Pointer (RFC 6901) of a path of member names and array indexes; member
    names the caller chose are shortened (:func:`~currency_api.problems.shown`)."""
    parts = []
    for part in path:
        text = str(part) if isinstance(part, int) else shown(part)
        parts.append("/" + text.replace("~", "~0").replace("/", "~1"))
    return "".join(parts)


def _members(error: ValidationError) -> Iterator[tuple[list[Any], str]]:
    """(path, detail) of each member an error is about: each missing member of ``required``,
    each unexpected member of ``additionalProperties``, or the instance itself."""
    path = list(error.absolute_path)
    instance = error.instance
    schema: Mapping[str, Any] = error.schema if isinstance(error.schema, Mapping) else {}
    if error.validator == "required" and isinstance(instance, Mapping):
        required: Any = error.validator_value
        for name in required:
            if name not in instance:
                yield [*path, name], "is required"
        return
    if error.validator == "additionalProperties" and isinstance(instance, Mapping):
        declared = schema.get("properties") or {}
        for name in instance:
            if name not in declared:
                yield [*path, name], "is not a member of this object"
        return
    yield path, describe(error)


def body_violations(errors: Iterable[ValidationError]) -> list[Violation]:
    """The violations of a request body, by JSON Pointer, at most :data:`MAX_VIOLATIONS`,
    each once."""
    found: dict[tuple[str, str], Violation] = {}
    for error in errors:
        for path, detail in _members(error):
            violation = Violation(detail, pointer=pointer(path))
            found.setdefault((violation.pointer or "", detail), violation)
            if len(found) >= MAX_VIOLATIONS:
                return list(found.values())
    return list(found.values())


def parameter_violations(
    name: str, location: Location, errors: Iterable[ValidationError]
) -> list[Violation]:
    """The violations of one parameter's value."""
    return [
        Violation(describe(error), parameter=name, location=location)
        for error in islice(errors, MAX_VIOLATIONS)
    ]


class SpecParameterValidator(connexion_extensions.CompiledParameterValidator):
    """Connexion's parameter validation (same schemas, compiled once), reporting every
    parameter's violations at once in the spec's terms.

    Raises:
        RequestInvalid: from :meth:`validate_request`, listing unknown query parameters
            (strict validation) and each declared parameter's violations.
    """

    @functools.cached_property
    def _allowed_query(self) -> frozenset[str]:
        """The query parameter names the operation declares, and the security schemes' ones
        (the validator is built once per operation: so is this)."""
        names = {p["name"] for p in self.parameters.get("query", [])}
        return frozenset(names.union(self.security_query_params or []))

    def validate(self, scope: Scope) -> None:
        """Connexion's ``ParameterValidator.validate`` reads the parameters through a new
        ``ConnexionRequest``; here they are read from the scope the same way (the query string
        parsed only when there is one, path parameters resolved by the same URI parser).

        A header parameter sent on several field lines is validated as the one line they make
        joined with ``", "`` (RFC 9110 section 5.3), as the handlers read it and as API
        Gateway hands it to Lambda; Connexion validates only the first line."""
        query = connexion_extensions.resolved_query(self.uri_parser, scope.get("query_string", b""))
        raw = scope.get("path_params", {})
        path = self.uri_parser.resolve_path(raw)
        scope[connexion_extensions.PATH_PARAMS_KEY] = (raw, path)
        self._validate_values(query, path, _JoinedFields(Headers(scope=scope)))

    def validate_request(self, request: Any) -> None:
        self._validate_values(
            request.query_params, request.path_params, _JoinedFields(request.headers)
        )

    @functools.cached_property
    def _checks(self) -> tuple[tuple[Location, str, str, Any, bool, bool], ...]:
        """Per declared parameter, in the order Connexion checks them (query, path, header):
        where it is, the key its value is read by, its name, its schema, whether it is
        required, whether it is nullable. The validator is built once per operation (see
        connexion_extensions.OnceRequestValidationOperation): so is this."""
        checks: list[tuple[Location, str, str, Any, bool, bool]] = []
        locations: tuple[Location, ...] = ("query", "path", "header")
        for location in locations:
            for param in self.parameters.get(location, []):
                name = param["name"]
                key = name.replace("-", "_") if location == "path" else name
                checks.append(
                    (
                        location,
                        key,
                        str(name),
                        param.get("schema", param),
                        bool(param.get("required")),
                        bool(is_nullable(param)),
                    )
                )
        return tuple(checks)

    def _validate_values(
        self, query: Mapping[str, Any], path: Mapping[str, Any], headers: Mapping[str, str]
    ) -> None:
        violations: list[Violation] = []
        if self.strict_validation and query:
            unknown = set(query).difference(self._allowed_query)
            violations.extend(
                Violation(
                    "is not a parameter of this operation",
                    parameter=shown(name),
                    location="query",
                )
                for name in islice(sorted(unknown), MAX_VIOLATIONS)
            )
        sources: dict[Location, Mapping[str, Any]] = {
            "query": query,
            "path": path,
            "header": headers,
        }
        for location, key, name, schema, required, nullable in self._checks:
            value = sources[location].get(key)
            if value is None:
                if required:
                    violations.append(Violation("is required", parameter=name, location=location))
                continue
            if nullable and is_null(value):
                continue
            if connexion_extensions.accepts_once_used(schema, value):
                continue
            validator = connexion_extensions.compiled(schema)
            violations.extend(parameter_violations(name, location, validator.iter_errors(value)))
        if violations:
            raise RequestInvalid(violations[:MAX_VIOLATIONS])


class _JoinedFields(Mapping[str, str]):
    """Request headers by name, each name's field lines joined with ``", "``."""

    def __init__(self, headers: Headers) -> None:
        self._headers = headers

    def __getitem__(self, name: str) -> str:
        value = joined_field(self._headers, name)
        if value is None:
            raise KeyError(name)
        return value

    def __iter__(self) -> Iterator[str]:
        return iter(dict.fromkeys(self._headers.keys()))  # each name once, as a mapping has it

    def __len__(self) -> int:
        return len(set(self._headers.keys()))


class SpecJSONBodyValidator(connexion_extensions.CompiledJSONRequestBodyValidator):
    """The strict, compiled JSON body validator, reporting every violation by JSON Pointer.

    Raises:
        RequestInvalid: the body is missing (``required``) or breaks its schema.
    """

    async def wrap_receive(self, receive: Receive, *, scope: Scope) -> tuple[Receive, Scope]:
        length = Headers(scope=scope).get("content-length", "0")
        if self._required and length in ("", "0") and self._schema.get("default") is None:
            raise RequestInvalid(
                [Violation("is required", pointer="")], "The request body is required."
            )
        if self.MUTABLE_VALIDATION or not length.isdigit() or not int(length):
            # No body (Connexion inserts the default) or an odd length: Connexion's own code.
            result: tuple[Receive, Scope] = await super().wrap_receive(receive, scope=scope)
            return result
        # Connexion 3.3.0's AbstractRequestBodyValidator.wrap_receive (pinned) for a body,
        # without its async generator: the messages are read in a loop, their bodies joined,
        # parsed, validated, and the messages replayed as received (MUTABLE_VALIDATION off).
        messages = []
        chunks = []
        more_body = True
        while more_body:
            message = await receive()
            messages.append(message)
            more_body = message.get("more_body", False)
            chunks.append(message.get("body", b""))
        body = self.parsed(b"".join(chunks), scope)
        if not (body is None and self._nullable):
            self._validate(body)
        return self._insert_messages(receive, messages=messages), scope

    def _validate(self, body: Any) -> None:
        if connexion_extensions.accepts(self._schema, body):
            return
        errors = self._validator.iter_errors(body)
        violations = body_violations(islice(errors, MAX_VIOLATIONS))
        if violations:
            raise RequestInvalid(violations)


def validator_map() -> dict[str, Any]:
    """``add_api(validator_map=...)``: :func:`connexion_extensions.validator_map` with the
    validators above for parameters and JSON bodies."""
    mapping = connexion_extensions.validator_map()
    body = mapping["body"]
    for media_type, validator in list(body.items()):
        if validator is connexion_extensions.CompiledJSONRequestBodyValidator:
            body[media_type] = SpecJSONBodyValidator
    return {**mapping, "parameter": SpecParameterValidator}
