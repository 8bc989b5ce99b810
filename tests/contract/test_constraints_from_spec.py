"""One violating request per constraint the spec declares, generated from spec/openapi.yaml and
sent over real HTTP with the admin's valid token: each answer is our problem+json, in our byte
form, naming the parameter or the body member (JSON Pointer) in the spec's terms.

The table is built at collection time by walking every operation's parameters and request
bodies. For each validation keyword of a schema (``type``, ``pattern``, ``minimum``,
``maxLength``, ``enum``, ``anyOf``, ``required``, ``additionalProperties``, ``minProperties``,
a non-``nullable`` member, ...) it searches a small pool of candidate values for one that breaks
that keyword, judged by jsonschema itself, preferring one that breaks nothing else; plus an
unknown query parameter per operation, a wrong media type and a missing body per request body.
A constraint added to the YAML is covered on the next run with no new test; one for which no
candidate breaks it fails the test that checks the table is complete.
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import quote, urlencode

import httpx
import pytest
import uvicorn
import yaml
from jsonschema import Draft4Validator

from currency_api import local
from currency_api.app import SPEC_PATH, create_app
from currency_api.connexion_extensions import compiled
from currency_api.store import CurrencyStore

PROBLEM_JSON: Final = "application/problem+json"
#: JSON Schema keywords (draft 4, as OpenAPI 3.0 uses them) that constrain a value on their own;
#: ``required``, ``additionalProperties`` and ``minProperties`` of objects are walked apart.
VALIDATION_KEYWORDS: Final = frozenset(
    {
        "type",
        "enum",
        "pattern",
        "format",
        "minLength",
        "maxLength",
        "minimum",
        "maximum",
        "multipleOf",
        "anyOf",
        "oneOf",
        "not",
        "minItems",
        "maxItems",
        "uniqueItems",
    }
)
METHODS: Final = ("get", "put", "post", "delete", "patch")
#: Words of Python and of the frameworks that a detail must never show.
FRAMEWORK_WORDS: Final = (
    "None",
    "True",
    "False",
    "is not of type",
    "does not match '",
    "RequestBody",
    "Extra query parameter",
    "Invalid Content-type",
    "is a required property",
    "was unexpected",
    "were unexpected",
    "Additional properties",
    "Traceback",
)


def _resolve(spec: Mapping[str, Any], node: Any) -> Any:
    """``node`` with every local ``$ref`` replaced by its target, recursively."""
    if isinstance(node, Mapping):
        if "$ref" in node:
            target: Any = spec
            for part in str(node["$ref"]).removeprefix("#/").split("/"):
                target = target[part]
            return _resolve(spec, target)
        return {key: _resolve(spec, value) for key, value in node.items()}
    if isinstance(node, list):
        return [_resolve(spec, item) for item in node]
    return node


def _flatten(schema: Mapping[str, Any]) -> dict[str, Any]:
    """A schema with its ``allOf`` branches merged in (the spec uses ``allOf`` to give a
    ``$ref`` siblings such as ``readOnly``)."""
    merged = {key: value for key, value in schema.items() if key != "allOf"}
    for branch in schema.get("allOf", []):
        for key, value in _flatten(branch).items():
            merged.setdefault(key, value)
    return merged


# --- candidate values ------------------------------------------------------------------------

#: Characters repeated into candidate strings: letters, digits, punctuation, a non-ASCII letter,
#: white space, a control character, and invisible format characters (U+200B, U+202E), so a
#: pattern refusing any of them finds its violation.
_CHARACTERS: Final = ("a", "A", "0", "!", "~", "é", " ", "\t", "\x00", "\u200b", "\u202e")


def _string_candidates(schema: Mapping[str, Any]) -> list[Any]:
    lengths = {0, 1, 2, 3, 4}
    for key in ("minLength", "maxLength"):
        if key in schema:
            lengths |= {schema[key] - 1, schema[key], schema[key] + 1}
    candidates: list[Any] = []
    for length in sorted(n for n in lengths if n >= 0):
        candidates.extend(char * length for char in _CHARACTERS)
        candidates.append('"' + "a" * max(length - 2, 0) + '"')
    example = schema.get("example")
    if isinstance(example, str):
        candidates += [example.lower(), example + "x", example[:-1], example * 2]
    return [*dict.fromkeys(candidates)]


def _number_candidates(schema: Mapping[str, Any]) -> list[Any]:
    numbers: set[Any] = {0, 1, -1, 1.5}
    for key in ("minimum", "maximum"):
        if key in schema:
            numbers |= {schema[key] - 1, schema[key], schema[key] + 1}
    return sorted(numbers, key=float)


def _candidates(schema: Mapping[str, Any], *, wire: bool) -> list[Any]:
    """Values to try against ``schema``. ``wire``: a parameter, whose value travels as text
    (so only strings, and numbers as their digits), else a JSON body member."""
    kind = schema.get("type")
    pool: list[Any] = []
    if kind in ("integer", "number"):
        pool += _number_candidates(schema)
        pool += ["x", "1.5"] if wire else ["x", None, True, [], {}]
    else:
        pool += _string_candidates(schema)
        pool += [] if wire else [1, None, True, [], {}]
    for value in schema.get("enum", []):
        if isinstance(value, str):
            pool += [value.upper(), value + "x"]
    return pool


def _as_validated(schema: Mapping[str, Any], value: Any) -> Any:
    """A wire value as Connexion validates it: integers arrive coerced."""
    if schema.get("type") == "integer" and isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            return value
    return value


def _broken_keywords(schema: Mapping[str, Any], value: Any) -> set[str]:
    return {str(error.validator) for error in compiled(schema).iter_errors(value)}


def violating_value(
    schema: Mapping[str, Any], keyword: str, *, wire: bool, nonempty: bool = False
) -> Any:
    """A candidate that breaks ``keyword`` of ``schema`` (only it, if any candidate does), or
    raises LookupError. ``nonempty``: never the empty string (a path segment, a header)."""
    fallback: Any = LookupError
    for value in _candidates(schema, wire=wire):
        if nonempty and (value == "" or not str(value).isprintable() or not str(value).isascii()):
            continue  # a path segment or a header field carries visible ASCII here
        broken = _broken_keywords(schema, _as_validated(schema, value))
        if broken == {keyword}:
            return value
        if keyword in broken and fallback is LookupError:
            fallback = value
    if fallback is LookupError:
        raise LookupError(f"no candidate breaks {keyword} of {schema}")
    return fallback


# --- the table -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One violating request and where its problem must point."""

    name: str
    method: str
    path: str
    query: Mapping[str, str] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes | None = None
    status: int = 400
    parameter: tuple[str, str] | None = None  # (name, in)
    pointer: str | None = None


@dataclass
class Table:
    cases: list[Case] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)


def _path_with(path: str, values: Mapping[str, str]) -> str:
    for name, value in values.items():
        path = path.replace("{" + name + "}", quote(value, safe=""))
    return path


def _example(schema: Mapping[str, Any]) -> Any:
    if "example" in schema:
        return schema["example"]
    if "enum" in schema:
        return schema["enum"][0]
    raise LookupError(f"no example for {schema}")


def _body_cases(
    table: Table,
    base: Case,
    media_type: str,
    schema: Mapping[str, Any],
    example: Any,
    prefix: str = "",
    whole: Any = None,
) -> None:
    """Violations of an object schema at JSON Pointer ``prefix`` inside the body ``whole``."""
    whole = example if whole is None else whole

    def put(value: Any, pointer: str, label: str, expect: str | None = None) -> None:
        document = json.loads(json.dumps(whole))
        target = document
        parts = [part for part in prefix.split("/") if part]
        for part in parts:
            target = target[part]
        if pointer == prefix:
            if not parts:
                document = value
            else:
                holder = document
                for part in parts[:-1]:
                    holder = holder[part]
                holder[parts[-1]] = value
        else:
            target[pointer.rsplit("/", 1)[1]] = value
        table.cases.append(
            Case(
                f"{base.name}-body{pointer or '/'}-{label}",
                base.method,
                base.path,
                headers={"Content-Type": media_type},
                body=json.dumps(document, ensure_ascii=False).encode(),
                pointer=pointer if expect is None else expect,
            )
        )

    schema = _flatten(schema)
    example = dict(example)
    put([], prefix, "type")
    if schema.get("minProperties"):
        put({}, prefix, "minProperties")
    if schema.get("additionalProperties") is False:
        put({**example, "unexpected": 1}, prefix, "additionalProperties", f"{prefix}/unexpected")
    for name in schema.get("required", []):
        without = {k: v for k, v in example.items() if k != name}
        put(without, prefix, f"required-{name}", f"{prefix}/{name}")
    for name, member in (schema.get("properties") or {}).items():
        member = _flatten(member)
        pointer = f"{prefix}/{name}"
        if member.get("type") == "object" and isinstance(example.get(name), Mapping):
            _body_cases(table, base, media_type, member, example[name], pointer, whole)
            continue
        if not member.get("nullable"):
            put(None, pointer, "nullable")
        for keyword in VALIDATION_KEYWORDS & set(member):
            try:
                put(violating_value(member, keyword, wire=False), pointer, keyword)
            except LookupError as exc:
                table.missing.append(f"{base.name} {pointer} {keyword}: {exc}")


def build_table(spec: Mapping[str, Any]) -> Table:
    """Every violating request the spec's constraints imply."""
    table = Table()
    for path, item in spec["paths"].items():
        shared = item.get("parameters", [])
        for method in METHODS:
            if method not in item:
                continue
            operation = item[method]
            operation_id = operation["operationId"]
            parameters = [_resolve(spec, p) for p in [*shared, *operation.get("parameters", [])]]
            path_values = {
                p["name"]: str(p.get("example", _example(_flatten(p["schema"]))))
                for p in parameters
                if p["in"] == "path"
            }
            base = Case(operation_id, method.upper(), _path_with(path, path_values))
            body = _resolve(spec, operation.get("requestBody") or {})
            content = body.get("content") or {}
            media_type, body_schema = next(iter(content.items()), (None, None))
            example = _example(body_schema["schema"]) if body_schema else None
            base_body = (
                {
                    "headers": {"Content-Type": media_type},
                    "body": json.dumps(example, ensure_ascii=False).encode(),
                }
                if media_type
                else {}
            )

            def with_body(case: Case, base_body: Mapping[str, Any] = base_body) -> Case:
                if not base_body or case.body is not None:
                    return case
                return Case(
                    case.name,
                    case.method,
                    case.path,
                    case.query,
                    {**base_body["headers"], **case.headers},
                    base_body["body"],
                    case.status,
                    case.parameter,
                    case.pointer,
                )

            table.cases.append(
                with_body(
                    Case(
                        f"{operation_id}-query-unexpected",
                        base.method,
                        base.path,
                        query={"unexpected": "1"},
                        parameter=("unexpected", "query"),
                    )
                )
            )
            for parameter in parameters:
                name, where = parameter["name"], parameter["in"]
                schema = _flatten(parameter["schema"])
                if parameter.get("required") and where != "path":
                    table.cases.append(
                        with_body(
                            Case(
                                f"{operation_id}-{where}-{name}-required",
                                base.method,
                                base.path,
                                parameter=(name, where),
                            )
                        )
                    )
                for keyword in sorted(VALIDATION_KEYWORDS & set(schema)):
                    if keyword == "type" and schema["type"] == "string":
                        continue  # every parameter arrives as text
                    try:
                        value = str(
                            violating_value(
                                schema, keyword, wire=True, nonempty=where in ("path", "header")
                            )
                        )
                    except LookupError as exc:
                        table.missing.append(f"{operation_id} {where} {name} {keyword}: {exc}")
                        continue
                    case = Case(
                        f"{operation_id}-{where}-{name}-{keyword}",
                        base.method,
                        _path_with(path, {**path_values, name: value})
                        if where == "path"
                        else base.path,
                        query={name: value} if where == "query" else {},
                        headers={name: value} if where == "header" else {},
                        parameter=(name, where),
                    )
                    table.cases.append(with_body(case))
            if media_type and body_schema is not None:
                _body_cases(table, base, media_type, body_schema["schema"], example)
                table.cases.append(
                    Case(
                        f"{operation_id}-body-media-type",
                        base.method,
                        base.path,
                        headers={"Content-Type": "text/plain"},
                        body=b"x",
                        status=415,
                        parameter=("Content-Type", "header"),
                    )
                )
                if body.get("required"):
                    table.cases.append(
                        Case(f"{operation_id}-body-required", base.method, base.path, pointer="")
                    )
    return table


SPEC: Final = yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))
TABLE: Final = build_table(SPEC)


def test_every_declared_constraint_has_a_violating_request() -> None:
    assert TABLE.missing == []
    assert len({case.name for case in TABLE.cases}) == len(TABLE.cases)


def test_a_constraint_added_to_the_yaml_gets_its_violating_request() -> None:
    """No new test for a new constraint: the table grows with the spec."""
    edited = json.loads(json.dumps(SPEC))
    edited["components"]["schemas"]["MinorUnit"]["enum"] = [0, 2, 3, 4]
    edited["components"]["parameters"]["Limit"]["schema"]["multipleOf"] = 5
    names = {case.name for case in build_table(edited).cases} - {case.name for case in TABLE.cases}
    assert names == {
        "createCurrency-body/minorUnit-enum",
        "replaceCurrency-body/minorUnit-enum",
        "updateCurrency-body/minorUnit-enum",
        "listCurrencies-query-limit-multipleOf",
    }


# --- the server --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(cognito: local.LocalCognito, dynamodb: Any, admin_token: str) -> Iterator[httpx.Client]:
    """The app under uvicorn on a loopback port (response validation on), and a client that
    sends the admin's real access token."""
    table_name = f"currencies-{uuid.uuid4().hex[:12]}"
    store = CurrencyStore(dynamodb, table_name, "test-secret")
    store.ensure_table()
    settings = local.settings_for(cognito, table_name=table_name, cursor_secret="test-secret")
    app = create_app(settings, store=store)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive(), "uvicorn stopped while starting"
        assert time.monotonic() < deadline, "uvicorn did not start within 10 s"
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    with httpx.Client(
        base_url=f"http://127.0.0.1:{port}",
        headers={"Authorization": f"Bearer {admin_token}"},
        timeout=10,
    ) as client:
        yield client
    server.should_exit = True
    thread.join(timeout=10)
    dynamodb.delete_table(TableName=table_name)


@pytest.mark.parametrize("case", TABLE.cases, ids=[case.name for case in TABLE.cases])
def test_a_violation_is_a_problem_naming_where_in_the_spec_s_terms(
    server: httpx.Client, case: Case
) -> None:
    url = case.path + (f"?{urlencode(case.query)}" if case.query else "")
    response = server.request(case.method, url, headers=dict(case.headers), content=case.body)

    assert response.status_code == case.status, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    problem = response.json()
    # Our byte form: members type, title, status, detail, errors; compact UTF-8 JSON.
    assert list(problem)[:4] == ["type", "title", "status", "detail"]
    assert (
        response.content == json.dumps(problem, ensure_ascii=False, separators=(",", ":")).encode()
    )
    assert problem["status"] == case.status
    detail = problem["detail"]
    assert detail != problem["title"]
    # Outside the quoted names (the header 'If-None-Match' is a name, not Python's None).
    prose = re.sub(r"'[^']*'", "''", detail)
    assert not [word for word in FRAMEWORK_WORDS if word in prose], detail
    errors = problem["errors"]
    Draft4Validator(_resolve(SPEC, SPEC["components"]["schemas"]["Violation"])).validate(errors[0])
    if case.parameter is not None:
        name, where = case.parameter
        assert {"parameter": name, "in": where} in [
            {"parameter": e.get("parameter"), "in": e.get("in")} for e in errors
        ], errors
        named = f"header '{name}'" if where == "header" else f"{where} parameter '{name}'"
        if case.status == 400:
            assert named in detail, detail
    else:
        assert case.pointer in [e.get("pointer") for e in errors], errors
        assert (f"body member {case.pointer}" if case.pointer else "request body") in detail, detail
