"""Connexion's own extension points (``validator_map``, ``security_map``) with per-request work
done once, at build time. Same checks, same error messages; measured in bench/.

Connexion 3.3, per request: deep-copies every parameter's schema and builds a new
``Draft4Validator`` for it and for the body; validates path-level parameters several times, because
``OpenAPIOperation`` appends them to the operation's parameter list in place each time one of
its middlewares builds the operation (``/currencies/{code}`` ends up with ``code`` six times);
and inspects the security functions' signatures on every call.
"""

from __future__ import annotations

import asyncio
import collections.abc
import contextlib
import copy
import functools
import logging
import re
import types
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Final

from connexion import context
from connexion.apps.abstract import AbstractApp
from connexion.apps.asynchronous import AsyncApi, AsyncApp, AsyncASGIApp, AsyncOperation
from connexion.datastructures import MediaTypeDict
from connexion.decorators import StarletteDecorator
from connexion.decorators.parameter import (
    CONTEXT_NAME,
    AsyncParameterDecorator,
    _get_body_argument_json,
    _get_query_defaults,
    _get_val_from_param,
    _query_args_helper,
    prep_kwargs,
    pythonic,
    sanitized,
    unwrap_decorators,
)
from connexion.decorators.response import AsyncResponseDecorator
from connexion.exceptions import NonConformingResponseHeaders, UnsupportedMediaTypeProblem
from connexion.frameworks.starlette import Starlette as StarletteFramework
from connexion.http_facts import FORM_CONTENT_TYPES
from connexion.json_schema import Draft4RequestValidator
from connexion.lifecycle import ConnexionRequest, ConnexionResponse
from connexion.middleware.lifespan import LifespanMiddleware
from connexion.middleware.main import ConnexionMiddleware
from connexion.middleware.request_validation import (
    RequestValidationAPI,
    RequestValidationMiddleware,
    RequestValidationOperation,
)
from connexion.middleware.response_validation import ResponseValidationMiddleware
from connexion.middleware.security import SecurityMiddleware
from connexion.middleware.server_error import ServerErrorMiddleware
from connexion.middleware.swagger_ui import SwaggerUIMiddleware
from connexion.operations import AbstractOperation
from connexion.security import BearerSecurityHandler, OAuthSecurityHandler
from connexion.utils import (
    deep_merge,
    inspect_function_arguments,
    is_null,
    is_nullable,
    split_content_type,
)
from connexion.validators import VALIDATOR_MAP
from connexion.validators.parameter import ParameterValidator
from jsonschema import Draft4Validator, ValidationError
from starlette.datastructures import QueryParams
from starlette.responses import Response as StarletteResponse
from starlette.routing import Mount
from starlette.types import Receive, Scope, Send

from currency_api.guards import BODY_KEY, StrictJSONBodyValidator
from currency_api.logs import RecordingSecurityMiddleware

_FORMAT_CHECKER: Final = Draft4Validator.FORMAT_CHECKER
#: Connexion's own logger name for request validation (its messages stay where they were).
logger = logging.getLogger("connexion.middleware.validation")


#: Compiled validators by the identity of their schema (held, so the id stays unique).
_COMPILED: dict[int, tuple[Mapping[str, Any], Any]] = {}
#: Apps built in one process (tests build hundreds) must not grow the cache without bound.
_COMPILED_LIMIT: Final = 2048


def compiled(schema: Mapping[str, Any], cls: Any = Draft4Validator) -> Any:
    """The validator of class ``cls`` for this schema object, built on first use.

    Schemas come from the app's resolved spec, which lives as long as the app: validators are
    stateless, so one per schema serves every request.
    """
    return _kept(
        _COMPILED,
        schema,
        lambda: cls(schema, format_checker=_FORMAT_CHECKER),
        fits=lambda validator: type(validator) is cls,
    )


def _kept(
    cache: dict[int, tuple[Mapping[str, Any], Any]],
    schema: Mapping[str, Any],
    build: Callable[[], Any],
    fits: Callable[[Any], bool] = lambda _value: True,
) -> Any:
    """What ``build`` makes for this schema object, kept in ``cache`` by the schema's identity
    (the schema is held, so its id stays unique) and built again only if ``fits`` refuses the
    kept one; at most :data:`_COMPILED_LIMIT` schemas (apps built in one process, as the tests
    build hundreds, must not grow it without bound)."""
    entry = cache.get(id(schema))
    if entry is not None and entry[0] is schema and fits(entry[1]):
        return entry[1]
    if len(cache) >= _COMPILED_LIMIT:
        cache.clear()
    value = build()
    cache[id(schema)] = (schema, value)
    return value


#: fastjsonschema's generated check per schema, by the schema's identity (held, see _COMPILED).
_ACCEPTING: dict[int, tuple[Mapping[str, Any], Any]] = {}
_DRAFT4: Final = "http://json-schema.org/draft-04/schema#"


def accepts(schema: Mapping[str, Any], instance: Any) -> bool:
    """True if ``instance`` is valid against ``schema`` by fastjsonschema's generated code
    (JSON Schema draft 4, the dialect of OpenAPI 3.0's schemas); False means "not known
    valid": the caller then runs jsonschema, which decides and names every violation.

    A fast answer is only ever "valid", and fastjsonschema is never more permissive than
    jsonschema's draft 4 here: both use Python's ``re`` (its ``$`` does not match before a
    final newline: stricter); it does not know OpenAPI's ``nullable`` (stricter); every format
    jsonschema's checker knows (``date-time``, ``email``, ...) is checked by that very checker
    (fastjsonschema's own ``date-time`` takes leap seconds and ``+0100``), and the formats only
    fastjsonschema knows are checked (stricter). A schema fastjsonschema cannot compile
    (``$`` inside a character class, which it rewrites) is left to jsonschema, as is every
    schema if fastjsonschema is missing. Defaults are never filled in (``use_default=False``):
    the body is not changed. The check is generated at a schema's first use (milliseconds), so
    the cold start's first request pays it only for the schemas it uses.
    """
    return _passes(_kept(_ACCEPTING, schema, lambda: _fast_check(schema)), instance)


def _passes(check: Callable[[Any], Any] | None, instance: Any) -> bool:
    """True if a generated check exists and ``instance`` passes it."""
    if check is None:
        return False
    try:
        check(instance)
    except Exception:  # JsonSchemaValueException, or a type the generated code did not expect
        return False
    return True


#: Calls with one schema that jsonschema alone decides before :func:`accepts_once_used`
#: generates that schema's fastjsonschema check.
FAST_CHECK_AFTER: Final = 64
#: Calls so far per schema (a one-element list), by the schema's identity (see _kept).
_USES: dict[int, tuple[Mapping[str, Any], Any]] = {}


#: Strings each schema's generated check accepted lately, by the schema's identity (see
#: _kept): at most :data:`_REMEMBERED_VALUES` per schema (emptied when full), each at most
#: :data:`_REMEMBERED_LENGTH` characters long.
_ACCEPTED: dict[int, tuple[Mapping[str, Any], Any]] = {}
_REMEMBERED_VALUES: Final = 128
_REMEMBERED_LENGTH: Final = 64


def accepts_once_used(
    schema: Mapping[str, Any], instance: Any, after: int = FAST_CHECK_AFTER
) -> bool:
    """:func:`accepts`, but the check is generated only at the schema's ``after``-th call;
    before that the answer is False ("not known valid"), so jsonschema decides alone.

    For parameters: a request's first parameters are checked at the cold start, which would
    otherwise pay for importing fastjsonschema (15-35 ms here) and generating each check
    (1-2 ms). A warm execution environment pays them once, at a later request, and from then
    on a parameter costs about 2-6 µs instead of jsonschema's 5-50 µs; a short string the
    check accepted lately (one of the last :data:`_REMEMBERED_VALUES`) about 0.3 µs.
    """
    entry = _ACCEPTING.get(id(schema))
    if entry is None or entry[0] is not schema:
        uses: list[int] = _kept(_USES, schema, lambda: [0])
        uses[0] += 1
        if uses[0] < after:
            return False
        return accepts(schema, instance)
    if type(instance) is not str or len(instance) > _REMEMBERED_LENGTH:
        return _passes(entry[1], instance)  # generated already: no second lookup via accepts()
    # A check is a pure function of the value: a string it accepted lately is accepted again
    # without running it (a caller's path code, its ETag). Only acceptances are remembered.
    kept = _ACCEPTED.get(id(schema))
    accepted: set[str] = (
        kept[1] if kept is not None and kept[0] is schema else _kept(_ACCEPTED, schema, set)
    )
    if instance in accepted:
        return True
    if not _passes(entry[1], instance):
        return False
    if len(accepted) >= _REMEMBERED_VALUES:
        accepted.clear()
    accepted.add(instance)
    return True


def _fast_check(schema: Mapping[str, Any]) -> Callable[[Any], Any] | None:
    """fastjsonschema's check of ``schema`` with jsonschema's format checks, or None."""
    try:
        import fastjsonschema

        formats = {
            name: functools.partial(_FORMAT_CHECKER.conforms, format=name)
            for name in _FORMAT_CHECKER.checkers
        }
        check: Callable[[Any], Any] = fastjsonschema.compile(
            {"$schema": _DRAFT4, **schema},
            formats=formats,
            use_default=False,
            detailed_exceptions=False,
        )
    except Exception as exc:  # ImportError, or a schema its code generator cannot compile
        logger.warning("values of a schema checked by jsonschema only: %s", exc)
        return None
    return check


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


# Per-request construction done once (issue 12). Each class below overrides one method of
# Connexion 3.3.0 (pinned: tests/unit/test_pinned_sources.py); its docstring says what the
# original builds per request. Gains measured with bench/warm.py are in bench/RESULTS.md.


class OnceParameterDecorator(AsyncParameterDecorator):  # type: ignore[misc]
    """Connexion's ``AsyncParameterDecorator`` (it turns the request into the handler's keyword
    arguments), with two per-request costs removed:

    - ``sanitize_fn`` (three regular-expression substitutions per parameter name, several
      times per request) is memoised: a pure function of the name; bounded.
    - ``await request.files()`` parses the body as a form on every request; for an operation
      whose request body has no form media type it can only be empty, so ``{}`` is passed
      (a form body there is refused with 415 by request validation first).
    - the JSON body is taken as request validation left it (:data:`BODY_KEY`), not parsed
      again.
    """

    def __init__(self, *, framework: Any, pythonic_params: bool = False) -> None:
        super().__init__(framework=framework, pythonic_params=pythonic_params)
        sanitize: Callable[[str], str] = pythonic if pythonic_params else sanitized
        self.sanitize_fn = functools.lru_cache(maxsize=1024)(sanitize)

    def __call__(self, function: Callable[..., Any]) -> Callable[..., Any]:
        unwrapped_function = unwrap_decorators(function)
        arguments, has_kwargs = inspect_function_arguments(unwrapped_function)
        reads_forms: list[bool] = []

        @functools.wraps(function)
        async def wrapper(request: Any) -> Any:
            if not reads_forms:
                consumes = context.operation.consumes
                reads_forms.append(any(c in FORM_CONTENT_TYPES for c in consumes))
            if BODY_KEY in request.scope:
                request_body = request.scope[BODY_KEY]
            else:
                request_body = self._maybe_get_body(
                    request, arguments=arguments, has_kwargs=has_kwargs
                )

            while asyncio.iscoroutine(request_body):
                request_body = await request_body

            kwargs = prep_kwargs(
                request,
                request_body=request_body,
                files=await request.files() if reads_forms[0] else {},
                arguments=arguments,
                has_kwargs=has_kwargs,
                sanitize=self.sanitize_fn,
            )

            return await function(**kwargs)

        return wrapper


class OnceStarletteDecorator(StarletteDecorator):  # type: ignore[misc]
    """Connexion's ``StarletteDecorator.__call__`` builds, on every request, a URI parser and
    the whole decorator chain (parameter decorator with ``inspect.signature`` of the handler,
    response decorator, three ``functools.wraps``). Both depend only on the operation, so they
    are built at its first request and reused; the request itself is built per request as
    before, from the same scope and receive."""

    @property
    def _parameter_decorator_cls(self) -> type[OnceParameterDecorator]:
        return OnceParameterDecorator

    def __call__(self, function: Callable[..., Any]) -> Callable[..., Any]:
        built: list[Any] = []

        @functools.wraps(function)
        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not built:
                built.extend((self.uri_parser, self.decorate(function)))
            uri_parser, decorated = built
            request = self.framework.get_request(
                uri_parser=uri_parser, scope=context.scope, receive=context.receive
            )
            return await decorated(request)

        return wrapper


#: Where parameter validation leaves the path parameters it resolved, with the Starlette
#: ``path_params`` they came from: ``(path_params, resolved)``. The handler plan takes them
#: from there (same spec operation, same URI parser class: the same values) instead of
#: resolving them again.
PATH_PARAMS_KEY: Final = "currency_api.path_params"


def resolved_query(uri_parser: Any, query_string: bytes) -> dict[str, Any]:
    """The query parameters as ``ConnexionRequest.query_params`` gives them (pinned): parsed
    by Starlette, resolved and cast by the operation's URI parser; ``{}`` for no query."""
    if not query_string:
        return {}
    args = QueryParams(query_string)
    resolved: dict[str, Any] = uri_parser.resolve_query({k: args.getlist(k) for k in args})
    return resolved


_CONTENT_TYPE_NAMES: Final = frozenset({b"content-type", "content-type"})


def _content_type(pairs: Iterable[tuple[str | bytes, str | bytes]]) -> str | None:
    """The first ``Content-Type`` value of header pairs (str or latin-1 bytes), as
    ``connexion.utils.extract_content_type`` finds it (pinned), without the typing objects
    that function subscripts on every call."""
    for key, value in pairs:
        # bytes.lower() lower-cases ASCII only, str.lower() more; "content-type" is ASCII and
        # no other latin-1 letter lower-cases to ASCII, so both find the same first field.
        if key.lower() in _CONTENT_TYPE_NAMES:
            return value.decode("latin-1") if isinstance(value, bytes) else value
    return None


class _PlannedResponse(AsyncResponseDecorator):  # type: ignore[misc]
    """Connexion's response decorator (``build_framework_response``: unpack the handler's tuple,
    choose and check the media type, serialise, build the Starlette response) with the
    operation's ``produces`` read once instead of through the context proxy per response."""

    def __init__(self, *, jsonifier: Any, produces: Iterable[str]) -> None:
        super().__init__(framework=StarletteFramework, jsonifier=jsonifier)
        self.produces = list(dict.fromkeys(produces))

    def _infer_content_type(self, data: Any, headers: Mapping[str, str]) -> str | None:
        """Connexion 3.3.0's ``BaseResponseDecorator._infer_content_type`` (pinned), with the
        operation's ``produces`` from the plan; the same choices and errors."""
        content_type = _content_type(headers.items())
        produces = self.produces
        if data is not None and not produces:
            produces = ["application/json"]
        if content_type:
            if content_type not in produces:
                raise NonConformingResponseHeaders(
                    f"Returned content type ({content_type}) is not defined in operation spec "
                    f"({self.produces})."
                )
            return content_type
        if len(produces) == 1:
            return produces[0]
        if not produces:
            return None
        if isinstance(data, str):
            for produced in produces:
                if "text/plain" in produced:
                    content_type = produced
        elif isinstance(data, (bytes, types.GeneratorType, collections.abc.Iterator)):
            for produced in produces:
                if "application/octet-stream" in produced:
                    content_type = produced
        if content_type is None:
            raise NonConformingResponseHeaders(
                "Multiple response content types are defined in the operation spec, but "
                "the handler response did not specify which one to return."
            )
        return content_type


@dataclass(frozen=True, slots=True)
class _Plan:
    """How one operation's handler is called, worked out once from the operation.

    ``path`` and ``query``: (name in the request, keyword argument, parameter definition);
    ``body``: the body's keyword argument, or None when the handler takes none.
    """

    uri_parser: Any
    path: tuple[tuple[str, str, Mapping[str, Any]], ...]
    query: Mapping[str, Mapping[str, Any]]
    query_defaults: Mapping[str, Any]
    arguments: frozenset[str]
    sanitize: Callable[[str], str]
    body: str | None
    response: _PlannedResponse


class OnceAsyncOperation(AsyncOperation):  # type: ignore[misc]
    """Calls the handler from a plan built at the operation's first request (issue 12).

    Connexion 3.3's ``AsyncOperation`` builds, per request, a ``StarletteDecorator`` and the
    whole decorator chain (``inspect.signature`` of the handler, three ``functools.wraps``),
    a ``ConnexionRequest``, then turns the request into keyword arguments by walking the
    operation's parameter list through the ``operation`` context proxy, deep-copying the query
    defaults, and parsing the JSON body a second time. Here the same arguments come from
    :class:`_Plan`: path and query parameters through the same URI parser and Connexion's own
    casting (``_get_val_from_param``, ``_query_args_helper``, ``_get_body_argument_json``), the
    body as request validation parsed, normalised and validated it (:data:`BODY_KEY`), and the
    security context's members the handler names. The response goes through Connexion's
    ``build_framework_response``.

    Handlers the plan does not cover are called through Connexion's own decorator chain
    (built once, :attr:`fn`): a synchronous handler, one taking ``**kwargs`` or ``context_``,
    or an operation consuming form media types or naming its body differently per media type.
    """

    _operation: AbstractOperation | None = None

    @classmethod
    def from_operation(
        cls, operation: AbstractOperation, *, pythonic_params: bool, jsonifier: Any
    ) -> OnceAsyncOperation:
        instance = cls(
            operation.function,
            jsonifier=jsonifier,
            operation_id=operation.operation_id,
            pythonic_params=pythonic_params,
        )
        instance._operation = operation
        return instance

    @functools.cached_property
    def fn(self) -> Callable[..., Any]:
        decorator = OnceStarletteDecorator(
            pythonic_params=self.pythonic_params, jsonifier=self.jsonifier
        )
        return decorator(self._fn)

    @functools.cached_property
    def plan(self) -> _Plan | None:
        """The plan, or None where Connexion's chain is used (see the class docstring). Built at
        the first request: an operation's parameter list is complete only then."""
        operation = self._operation
        handler = unwrap_decorators(self._fn)
        if operation is None or not asyncio.iscoroutinefunction(handler):
            return None
        arguments, has_kwargs = inspect_function_arguments(handler)
        if has_kwargs or CONTEXT_NAME in arguments:
            return None
        if any(c in FORM_CONTENT_TYPES for c in operation.consumes):
            return None
        sanitize = pythonic if self.pythonic_params else sanitized
        body: str | None = None
        if operation.is_request_body_defined and operation.method.upper() != "TRACE":
            names = {sanitize(operation.body_name(c)) for c in operation.consumes or [None]}
            if len(names) != 1:
                return None
            name = names.pop()
            body = name if name in arguments else None
        definitions: dict[tuple[str, str], Mapping[str, Any]] = {}
        for parameter in operation.parameters:
            definitions.setdefault((parameter["in"], parameter["name"]), parameter)
        path = tuple(
            (name.replace("-", "_"), sanitize(name.replace("-", "_")), definition)
            for (where, name), definition in definitions.items()
            if where == "path"
        )
        query = {name: d for (where, name), d in definitions.items() if where == "query"}
        uri_parser_class = operation.uri_parser_class
        return _Plan(
            uri_parser=uri_parser_class(operation.parameters, operation.body_definition()),
            path=path,
            query=query,
            query_defaults=_get_query_defaults(query),
            arguments=frozenset(arguments),
            sanitize=sanitize,
            body=body,
            response=_PlannedResponse(jsonifier=self.jsonifier, produces=operation.produces),
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        plan = self.plan
        if plan is None:
            response = await self.fn()
            await response(scope, receive, send)
            return
        kwargs: dict[str, Any] = {}
        if plan.path:
            # Starlette's path parameters, resolved as ConnexionRequest.path_params does (by
            # parameter validation already, if it saw these very values), then cast as
            # Connexion's _get_path_arguments does.
            raw = scope.get("path_params", {})
            kept = scope.get(PATH_PARAMS_KEY)
            if kept is not None and kept[0] is raw:
                resolved = kept[1]
            else:
                resolved = plan.uri_parser.resolve_path(raw)
            for key, argument, definition in plan.path:
                if key in resolved:
                    kwargs[argument] = _get_val_from_param(resolved[key], definition)
        if plan.query:
            given = resolved_query(plan.uri_parser, scope.get("query_string", b""))
            merged = deep_merge(copy.deepcopy(dict(plan.query_defaults)), given)
            kwargs.update(
                _query_args_helper(plan.query, merged, plan.arguments, False, plan.sanitize)
            )
        if plan.body is not None:
            kwargs[plan.body] = await self._body(scope, receive, plan)
        security = scope.get("extensions", {}).get("connexion_context")
        if security:
            for key, value in security.items():
                if key in plan.arguments:
                    kwargs[key] = value
        result = await self._fn(**kwargs)
        if isinstance(result, StarletteResponse):
            response = result
        elif isinstance(result, ConnexionResponse):
            response = StarletteFramework.connexion_to_framework_response(result)
        else:
            response = plan.response.build_framework_response(result)
        await response(scope, receive, send)

    async def _body(self, scope: Scope, receive: Receive, plan: _Plan) -> Any:
        """The body argument: as request validation left it, else parsed as Connexion's
        ``ConnexionRequest.get_body`` does; then Connexion's defaults and nullability."""
        if BODY_KEY in scope:
            body = scope[BODY_KEY]
            if body is not None and not hasattr(body, "strip"):
                # Neither null nor a string ("null" counts as null): _get_body_argument_json
                # returns such a body as it is, whatever the media type.
                return body
        request = ConnexionRequest(scope, receive, uri_parser=plan.uri_parser)
        if BODY_KEY in scope:
            body = scope[BODY_KEY]
        else:
            body = await request.get_body()
        operation = self._operation
        return _get_body_argument_json(body, operation=operation, content_type=request.mimetype)


class OnceAsyncApi(AsyncApi):  # type: ignore[misc]
    def make_operation(self, operation: AbstractOperation) -> OnceAsyncOperation:
        return OnceAsyncOperation.from_operation(
            operation, pythonic_params=self.pythonic_params, jsonifier=self.jsonifier
        )


class OnceAsyncASGIApp(AsyncASGIApp):  # type: ignore[misc]
    api_cls = OnceAsyncApi


class CurrencyAsyncApp(AsyncApp):  # type: ignore[misc]
    """Connexion's AsyncApp whose innermost app calls handlers through :class:`OnceAsyncOperation`.

    ``AsyncApp.__init__`` only creates its ``AsyncASGIApp`` and passes every argument on to
    ``AbstractApp.__init__``; this does the same with the subclass."""

    def __init__(self, import_name: str, **kwargs: Any) -> None:
        self._middleware_app = OnceAsyncASGIApp()
        AbstractApp.__init__(self, import_name, **kwargs)


#: Media types whose body lookups one operation remembers.
_BODY_PLANS: Final = 16


class OnceRequestValidationOperation(RequestValidationOperation):  # type: ignore[misc]
    """Connexion's ``RequestValidationOperation.__call__`` builds a URI parser and a parameter
    validator (here: de-duplicating and grouping the parameters) for every request, a second
    URI parser for the body validator, and a ``MediaTypeDict`` of the accepted media types.
    They depend only on the operation: built at its first request (the operation's parameter
    list is complete only once every middleware has built its operations) and reused; so are
    the body schema and validator class of each media type (:meth:`_body_plan`). The rest is
    Connexion's code, unchanged."""

    _built: tuple[Any, Any, MediaTypeDict | None] | None = None

    def _build(self) -> tuple[Any, Any, MediaTypeDict | None]:
        if self._built is None:
            operation = self._operation
            uri_parser = operation._uri_parser_class(
                operation.parameters, operation.body_definition()
            )
            validator = self._validator_map["parameter"](
                operation.parameters,
                uri_parser=uri_parser,
                strict_validation=self.strict_validation,
                security_query_params=self.security_query_params,
            )
            consumes = (
                MediaTypeDict([(c.lower(), None) for c in operation.consumes])
                if operation.consumes
                else None
            )
            self._built = (uri_parser, validator, consumes)
        return self._built

    def extract_content_type(self, headers: Iterable[tuple[bytes, bytes]]) -> tuple[str, str]:
        """Connexion's (pinned), with :func:`_content_type`: the same mime type and encoding,
        the same guesses when there is none."""
        mime_type, encoding = split_content_type(_content_type(headers))
        if mime_type is None:
            consumes = self._operation.consumes
            mime_type = consumes[0] if consumes else "application/octet-stream"
        return mime_type, encoding or "utf-8"

    def validate_mime_type(self, mime_type: str) -> None:
        """Connexion's check that the operation consumes ``mime_type``, whose answer per media
        type is remembered (``MediaTypeDict`` sorts its keys and ``fnmatch``-es each on every
        lookup), for the last few media types (callers choose the string: bounded)."""
        consumes = self._build()[2]
        if consumes is None:
            return
        lowered = mime_type.lower()
        known: dict[str, bool] = self.__dict__.setdefault("_consumed", {})
        accepted = known.get(lowered)
        if accepted is None:
            accepted = lowered in consumes
            if len(known) >= _BODY_PLANS:
                known.clear()
            known[lowered] = accepted
        if not accepted:
            raise UnsupportedMediaTypeProblem(
                detail=f"Invalid Content-type ({mime_type}), expected {self._operation.consumes}"
            )

    def _body_plan(self, mime_type: str) -> tuple[Any, Any, bool]:
        """The body schema, validator class (None: none registered) and nullability for a
        media type, as Connexion looks them up per request (``body_schema``,
        ``body_definition`` and a ``fnmatch`` over the validator map), remembered for the
        last few media types (callers choose the string: bounded)."""
        plans = self.__dict__.setdefault("_body_plans", {})
        plan: tuple[Any, Any, bool] | None = plans.get(mime_type)
        if plan is None:
            schema = self._operation.body_schema(mime_type)
            validator = None
            if schema:
                try:
                    validator = self._validator_map["body"][mime_type]
                except KeyError:
                    validator = None
            nullable = bool(is_nullable(self._operation.body_definition(mime_type)))
            plan = (schema, validator, nullable)
            if len(plans) >= _BODY_PLANS:
                plans.clear()
            plans[mime_type] = plan
        return plan

    def prime(self) -> int:
        """Do now what this operation's first requests would do: build its parameter
        validator and body plans, generate the fastjsonschema check and build the jsonschema
        validator of every parameter schema and of the body schema of each media type it
        consumes, and compile each of their ``pattern`` regular expressions (Python's ``re``
        keeps compiled patterns; jsonschema's ``pattern`` reads that cache). The very schema
        objects the requests pass are primed, so the caches keyed by their identity hit.

        For SnapStart's before-snapshot hook: what is done here is in the snapshot, so no
        restored environment pays it (a body check is 1-60 ms to generate, the first
        ``pattern`` with large Unicode classes up to 20 ms to compile). Returns the number
        of schemas primed.
        """
        _uri_parser, parameter_validator, _consumes = self._build()
        schemas: list[tuple[Mapping[str, Any], Any]] = [
            (param.get("schema", param), Draft4Validator)
            for params in parameter_validator.parameters.values()
            for param in params
        ]
        for media_type in self._operation.consumes or ():
            schema, body_validator, _nullable = self._body_plan(media_type.lower())
            if schema and body_validator is not None:
                schemas.append((schema, Draft4RequestValidator))
        for schema, cls in schemas:
            accepts(schema, None)  # generates and keeps the check (None is refused)
            compiled(schema, cls)
            for pattern in _patterns(schema):
                # A "pattern" member of an example or default value may hold any string.
                with contextlib.suppress(re.error):
                    re.compile(pattern)
        return len(schemas)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        uri_parser, parameter_validator, _ = self._build()
        parameter_validator.validate(scope)

        headers = scope["headers"]
        mime_type, encoding = self.extract_content_type(headers)
        self.validate_mime_type(mime_type)

        schema, body_validator, nullable = self._body_plan(mime_type)
        if schema:
            if body_validator is None:
                logger.info(
                    "Skipping validation. No validator registered for content type: %s.",
                    mime_type,
                )
            else:
                validator = body_validator(
                    schema=schema,
                    required=self._operation.request_body.get("required", False),
                    nullable=nullable,
                    encoding=encoding,
                    strict_validation=self.strict_validation,
                    uri_parser=uri_parser,
                )
                receive, scope = await validator.wrap_receive(receive, scope=scope)

        await self.next_app(scope, receive, send)


def _patterns(schema: Any) -> Iterator[str]:
    """Every string under a ``pattern`` key anywhere in ``schema`` (a resolved schema: no
    ``$ref`` is followed)."""
    if isinstance(schema, dict):
        for key, value in schema.items():
            if key == "pattern" and isinstance(value, str):
                yield value
            else:
                yield from _patterns(value)
    elif isinstance(schema, list):
        for item in schema:
            yield from _patterns(item)


def prime_operations(middleware: ConnexionMiddleware) -> int:
    """Do now, for every operation of ``middleware``'s built stack, what its first requests
    would: :meth:`OnceRequestValidationOperation.prime` in the request validation layer, and
    the handler's :attr:`OnceAsyncOperation.plan` in the app. Returns the number of request
    schemas primed.

    Raises:
        RuntimeError: the stack is not built yet (Connexion builds it at the first request).
    """
    if middleware.middleware_stack is None:
        raise RuntimeError("the middleware stack is built at the first request")
    primed = 0
    for layer in middleware.middleware_stack:
        if not isinstance(layer, OnceRequestValidationMiddleware | OnceAsyncASGIApp):
            continue
        for apis in layer.apis.values():
            for api in apis:
                for operation in api.operations.values():
                    if isinstance(operation, OnceRequestValidationOperation):
                        primed += operation.prime()
                    elif isinstance(operation, OnceAsyncOperation):
                        _ = operation.plan  # built and kept (a cached property)
    return primed


class OnceRequestValidationAPI(RequestValidationAPI):  # type: ignore[misc]
    def make_operation(self, operation: AbstractOperation) -> OnceRequestValidationOperation:
        return OnceRequestValidationOperation(
            self.next_app,
            operation=operation,
            strict_validation=self.strict_validation,
            validator_map=self.validator_map,
        )


class OnceRequestValidationMiddleware(RequestValidationMiddleware):  # type: ignore[misc]
    api_cls = OnceRequestValidationAPI


class SkippingSwaggerUIMiddleware(SwaggerUIMiddleware):  # type: ignore[misc]
    """Connexion's Swagger UI middleware, which routes every request through its own Starlette
    router (a mount and a route list) before the routing middleware routes it again; here a
    request whose path cannot match any of its routes (it starts with none of their static
    prefixes: ``/openapi.json``, ``/ui``, ...) goes straight to the next app, as the router's
    default would send it. Requests under a ``root_path`` always take the router."""

    _prefixes: tuple[str, ...] | None = None

    def _route_prefixes(self) -> tuple[str, ...]:
        prefixes: list[str] = []
        for mount in self.router.routes:
            base = str(getattr(mount, "path", ""))
            inner = getattr(getattr(mount, "app", None), "routes", None)
            if not isinstance(mount, Mount) or inner is None:
                prefixes.append(base.split("{", 1)[0])
                continue
            prefixes.extend((base + str(route.path)).split("{", 1)[0] for route in inner)
        return tuple(prefixes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not scope.get("root_path"):
            if self._prefixes is None:
                self._prefixes = self._route_prefixes()
            if not str(scope["path"]).startswith(self._prefixes):
                await self.app(scope, receive, send)
                return
        await super().__call__(scope, receive, send)


def middlewares(*, lifespan: bool, response_validation: bool = True) -> list[Any]:
    """``AsyncApp(middlewares=...)``: Connexion's default list (which this argument replaces
    whole: ServerError, Exception, SwaggerUI, Routing, Security, RequestValidation,
    ResponseValidation, Lifespan, Context), with request validation built once per operation,
    the Swagger UI's router skipped for paths it cannot serve, security that also records the
    route for the access log (``logs.RecordingSecurityMiddleware``); without the lifespan
    layer where nothing sends lifespan events (Mangum with ``lifespan="off"``, on Lambda), and
    without the response validation layer where responses are not validated (Connexion's
    layer then only looks the operation up and calls the next app); and without Connexion's
    last resort (``ServerErrorMiddleware``, outermost): create_app puts
    ``currency_api.edge.Edge`` right inside it, and nothing escapes the Edge (it answers an
    escaped exception with a 500 problem and logs no traceback, where Connexion's would)."""
    replaced = {
        RequestValidationMiddleware: OnceRequestValidationMiddleware,
        SwaggerUIMiddleware: SkippingSwaggerUIMiddleware,
        SecurityMiddleware: RecordingSecurityMiddleware,
    }
    left_out: set[type] = {ServerErrorMiddleware}
    if not lifespan:
        left_out.add(LifespanMiddleware)
    if not response_validation:
        left_out.add(ResponseValidationMiddleware)
    return [
        replaced.get(middleware, middleware)
        for middleware in ConnexionMiddleware.default_middlewares
        if middleware not in left_out
    ]
