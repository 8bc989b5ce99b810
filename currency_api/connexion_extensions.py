"""Connexion's own extension points (``validator_map``, ``security_map``) with per-request work
done once, at build time. Same checks, same error messages; measured in bench/.

Connexion 3.3, per request: deep-copies every parameter's schema and builds a new
``Draft4Validator`` for it and for the body; validates path-level parameters several times, because
``OpenAPIOperation`` appends them to the operation's parameter list in place each time one of
its middlewares builds the operation (``/currencies/{code}`` ends up with ``code`` six times);
and inspects the security functions' signatures on every call.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final

from connexion.datastructures import MediaTypeDict
from connexion.json_schema import Draft4RequestValidator
from connexion.security import BearerSecurityHandler, OAuthSecurityHandler
from connexion.utils import inspect_function_arguments, is_null, is_nullable
from connexion.validators import VALIDATOR_MAP
from connexion.validators.parameter import ParameterValidator
from jsonschema import Draft4Validator, ValidationError

from currency_api.guards import StrictJSONBodyValidator

_FORMAT_CHECKER: Final = Draft4Validator.FORMAT_CHECKER


#: Compiled validators by the identity of their schema (held, so the id stays unique).
_COMPILED: dict[int, tuple[Mapping[str, Any], Any]] = {}
#: Apps built in one process (tests build hundreds) must not grow the cache without bound.
_COMPILED_LIMIT: Final = 2048


def compiled(schema: Mapping[str, Any], cls: Any = Draft4Validator) -> Any:
    """The validator of class ``cls`` for this schema object, built on first use.

    Schemas come from the app's resolved spec, which lives as long as the app: validators are
    stateless, so one per schema serves every request.
    """
    key = id(schema)
    entry = _COMPILED.get(key)
    if entry is not None and entry[0] is schema and type(entry[1]) is cls:
        return entry[1]
    if len(_COMPILED) >= _COMPILED_LIMIT:
        _COMPILED.clear()
    validator = cls(schema, format_checker=_FORMAT_CHECKER)
    _COMPILED[key] = (schema, validator)
    return validator


class CompiledParameterValidator(ParameterValidator):  # type: ignore[misc]
    """Connexion's ParameterValidator (built per request) with each parameter listed once
    (the first of a name and location wins: the operation's own, as OpenAPI 3.0 says
    operation-level parameters override path-level ones) and compiled schema validators."""

    def __init__(
        self,
        parameters: Iterable[Mapping[str, Any]],
        uri_parser: Any,
        strict_validation: bool = False,
        security_query_params: Iterable[str] | None = None,
    ) -> None:
        unique: dict[tuple[str, str], Mapping[str, Any]] = {}
        for parameter in parameters:
            unique.setdefault((parameter["in"], parameter["name"]), parameter)
        super().__init__(
            unique.values(),
            uri_parser,
            strict_validation=strict_validation,
            security_query_params=security_query_params,
        )

    def validate_parameter(
        self,
        parameter_type: str,
        value: Any,
        param: Mapping[str, Any],
        param_name: str | None = None,
    ) -> str | None:
        """As Connexion's: None if valid, else the error message (the same text)."""
        if is_nullable(param) and is_null(value):
            return None
        if value is not None:
            try:
                compiled(param.get("schema", param)).validate(value)
            except ValidationError as exception:
                return str(exception)
            return None
        if param.get("required"):
            return f"Missing {parameter_type} parameter '{param['name']}'"
        return None


class CompiledJSONRequestBodyValidator(StrictJSONBodyValidator):
    """The strict JSON body validator (duplicate keys, NaN, nesting: see
    :mod:`currency_api.guards`) with its schema compiled once."""

    @property
    def _validator(self) -> Any:
        return compiled(self._schema, Draft4RequestValidator)


@functools.lru_cache(maxsize=256)
def _accepts_kwarg(func: Callable[..., Any], keyword: str) -> bool:
    arguments, has_kwargs = inspect_function_arguments(func)
    return bool(has_kwargs or keyword in arguments)


class _SignatureCache:
    """Remembers which keyword arguments a security function takes (its signature is fixed)."""

    @staticmethod
    def _accepts_kwarg(func: Callable[..., Any], keyword: str) -> bool:
        return _accepts_kwarg(func, keyword)


class CachedOAuthSecurityHandler(_SignatureCache, OAuthSecurityHandler):  # type: ignore[misc]
    """Connexion's OAuth 2 handler (same checks), signatures inspected once."""


class CachedBearerSecurityHandler(_SignatureCache, BearerSecurityHandler):  # type: ignore[misc]
    """Connexion's HTTP bearer handler (same checks), signatures inspected once."""


def validator_map() -> dict[str, Any]:
    """``add_api(validator_map=...)``: Connexion's map with the compiled validators and the
    strict JSON parser (an API's map replaces the app's whole map in Connexion)."""
    body = MediaTypeDict(VALIDATOR_MAP["body"])
    body["*/*json"] = CompiledJSONRequestBodyValidator
    return {**VALIDATOR_MAP, "parameter": CompiledParameterValidator, "body": body}


def security_map() -> dict[str, Any]:
    """``add_api(security_map=...)``: the handlers for the spec's ``oauth2`` and ``bearer``."""
    return {"oauth2": CachedOAuthSecurityHandler, "bearer": CachedBearerSecurityHandler}
