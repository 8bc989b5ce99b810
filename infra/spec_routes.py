"""Reads spec/openapi.yaml into gateway routes, refusing what an HTTP API cannot express.

An API Gateway HTTP API route is one method on one path with at most one authorizer. Its JWT
authorizer checks a bearer JWT's signature, issuer, expiry and audience (``aud``, or
``client_id`` when ``aud`` is absent, as in Cognito access tokens), and, when a route lists
authorization scopes, that the token carries *any one* of them (API Gateway developer guide,
"Controlling access to HTTP APIs with JWT authorizers"). Anything the spec asks for beyond
that (two scopes at once, API keys, basic auth, a second token issuer, optional
authentication) cannot be enforced at the gateway, so :func:`routes_from_spec` raises
:class:`UnexpressibleSpecError` naming the operation, and synthesis fails.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import yaml

#: Operation keys of an OpenAPI 3.0 path item (OpenAPI 3.0.3, "Path Item Object").
OPENAPI_METHODS: Final = ("get", "put", "post", "delete", "options", "head", "patch", "trace")

#: Methods an HTTP API route can name (``ANY`` aside): the AWS::ApiGatewayV2::Route RouteKey.
GATEWAY_METHODS: Final = frozenset({"GET", "PUT", "POST", "DELETE", "OPTIONS", "HEAD", "PATCH"})

_PATH_SEGMENT: Final = re.compile(r"^(?:[A-Za-z0-9._~!$&'()*,;=:@-]+|\{[A-Za-z0-9_.-]+\})$")


class UnexpressibleSpecError(ValueError):
    """The spec asks for something the HTTP API cannot enforce; the message names where."""


@dataclass(frozen=True, slots=True)
class Route:
    """One gateway route: a method and a path, public or behind the JWT authorizer.

    ``scopes`` are the scopes the spec requires (any one of the alternatives); they are
    informational: the app, not the gateway, enforces them (see infra/README.md). The spec's
    form is two alternatives, ``- bearerAuth: []`` and ``- cognito: [scope]``: the bearer one
    has no scopes of its own (OpenAPI 3.0) and the app holds it to the oauth2 one's.
    """

    method: str
    path: str
    operation_id: str
    secured: bool
    scopes: frozenset[str] = frozenset()

    @property
    def key(self) -> str:
        """The HTTP API route key, e.g. ``GET /currencies/{code}``."""
        return f"{self.method} {self.path}"


def load_spec(path: Path) -> dict[str, Any]:
    """The OpenAPI document at ``path`` as a mapping.

    Raises:
        UnexpressibleSpecError: the file is not a YAML mapping.
    """
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(document, dict):
        raise UnexpressibleSpecError(f"{path} is not an OpenAPI document (not a mapping)")
    return document


def token_scheme_name(spec: Mapping[str, Any]) -> str:
    """The name of the OAuth2 scheme whose tokens the user pool issues.

    The spec's only oauth2 scheme, or, when it declares several, the one its top-level
    ``security`` uses. Operations naming any other oauth2 scheme are refused by
    :func:`routes_from_spec` (the stack has one user pool and so one JWT authorizer).

    Raises:
        UnexpressibleSpecError: no oauth2 scheme can be singled out.
    """
    schemes = _schemes(spec)
    names = sorted(name for name, scheme in schemes.items() if scheme.get("type") == "oauth2")
    if len(names) == 1:
        return names[0]
    used = sorted(
        {str(name) for req in spec.get("security") or [] for name in req if name in names}
    )
    if len(used) == 1:
        return used[0]
    raise UnexpressibleSpecError(
        "cannot tell which oauth2 scheme is the user pool's: components.securitySchemes "
        f"declares {', '.join(names) or 'none'} and the top-level security uses "
        f"{', '.join(used) or 'none'}; the stack has one JWT authorizer"
    )


def oauth_scopes(spec: Mapping[str, Any]) -> dict[str, str]:
    """The token scheme's scopes across all its flows: ``{"currencies/read": "Read ..."}``."""
    scheme = _schemes(spec)[token_scheme_name(spec)]
    scopes: dict[str, str] = {}
    flows = scheme.get("flows") or {}
    for flow in flows.values():
        for scope, description in (flow.get("scopes") or {}).items():
            scopes.setdefault(str(scope), str(description))
    return scopes


def resource_server(spec: Mapping[str, Any]) -> tuple[str, dict[str, str]]:
    """The Cognito resource server the spec's scopes imply: identifier and scope names.

    Cognito names a custom scope ``{resource server identifier}/{scope name}`` (Cognito
    developer guide, "Scopes, M2M, and APIs with resource servers"), so ``currencies/read``
    and ``currencies/write`` mean the server ``currencies`` with scopes ``read`` and ``write``.

    Raises:
        UnexpressibleSpecError: a scope is not of that form, or the scopes name several
            resource servers.
    """
    identifiers: set[str] = set()
    names: dict[str, str] = {}
    for scope, description in oauth_scopes(spec).items():
        identifier, _, name = scope.rpartition("/")
        if not identifier or not name:
            raise UnexpressibleSpecError(
                f"scope {scope!r} is not of the form 'resource-server/scope' that Cognito "
                "issues for custom scopes"
            )
        identifiers.add(identifier)
        names[name] = description
    if len(identifiers) != 1:
        raise UnexpressibleSpecError(
            "the oauth2 scheme's scopes must belong to one resource server; found: "
            + (", ".join(sorted(identifiers)) or "no scopes")
        )
    return identifiers.pop(), names


def routes_from_spec(spec: Mapping[str, Any]) -> list[Route]:
    """One route per operation (path and method), in the spec's order.

    Raises:
        UnexpressibleSpecError: an operation uses a method, path or security requirement the
            HTTP API cannot express; the message names the operation.
    """
    token_scheme = token_scheme_name(spec)
    global_security = spec.get("security", [])
    routes: list[Route] = []
    paths = spec.get("paths") or {}
    for path, item in paths.items():
        for key in item:
            if key.lower() not in OPENAPI_METHODS:
                continue
            operation = item[key] or {}
            method = key.upper()
            where = (
                f"operation {operation.get('operationId', '(no operationId)')} ({method} {path})"
            )
            if method not in GATEWAY_METHODS:
                raise UnexpressibleSpecError(f"{where}: an HTTP API route cannot use {method}")
            _check_path(where, str(path))
            security = operation.get("security", global_security)
            secured, scopes = _authorization(where, security, spec, token_scheme)
            routes.append(
                Route(
                    method=method,
                    path=str(path),
                    operation_id=str(operation.get("operationId", "")),
                    secured=secured,
                    scopes=scopes,
                )
            )
    return routes


def _schemes(spec: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    components = spec.get("components") or {}
    return dict(components.get("securitySchemes") or {})


def _check_path(where: str, path: str) -> None:
    if not path.startswith("/"):
        raise UnexpressibleSpecError(f"{where}: the path must start with '/'")
    if path == "/":
        return
    if path.endswith("/"):
        raise UnexpressibleSpecError(f"{where}: an HTTP API route path cannot end with '/'")
    for segment in path[1:].split("/"):
        if not _PATH_SEGMENT.match(segment):
            raise UnexpressibleSpecError(
                f"{where}: path segment {segment!r} is neither a literal nor a whole "
                "'{name}' parameter, which is all an HTTP API route path can hold"
            )


def _authorization(
    where: str,
    security: Any,
    spec: Mapping[str, Any],
    token_scheme: str,
) -> tuple[bool, frozenset[str]]:
    """Whether the route needs the JWT authorizer, and the scopes the spec names."""
    if not isinstance(security, list):
        raise UnexpressibleSpecError(f"{where}: security must be a list of requirements")
    if not security:
        return False, frozenset()
    schemes = _schemes(spec)
    declared_scopes = set(oauth_scopes(spec))
    anonymous = [req for req in security if not req]
    if anonymous:
        raise UnexpressibleSpecError(
            f"{where}: security lists an empty requirement ({{}}) beside others, which makes "
            "authentication optional; an HTTP API route is either behind the JWT authorizer "
            "or public, so use `security: []` or drop the empty requirement"
        )
    scopes: set[str] = set()
    for requirement in security:
        scopes.update(
            _requirement_scopes(where, requirement, schemes, token_scheme, declared_scopes)
        )
    return True, frozenset(scopes)


def _requirement_scopes(
    where: str,
    requirement: Mapping[str, Any],
    schemes: Mapping[str, Mapping[str, Any]],
    token_scheme: str,
    declared_scopes: Iterable[str],
) -> list[str]:
    scopes: list[str] = []
    for name, listed in requirement.items():
        scheme = schemes.get(name)
        if scheme is None:
            raise UnexpressibleSpecError(
                f"{where}: security scheme {name!r} is not declared in components.securitySchemes"
            )
        kind = scheme.get("type")
        if kind == "http" and str(scheme.get("scheme", "")).lower() == "bearer":
            if scheme.get("bearerFormat", "JWT") != "JWT":
                raise UnexpressibleSpecError(
                    f"{where}: bearer scheme {name!r} carries {scheme['bearerFormat']} tokens; "
                    "the JWT authorizer checks only JWTs"
                )
            continue
        if kind != "oauth2":
            shown = f"http {scheme.get('scheme')}" if kind == "http" else kind
            raise UnexpressibleSpecError(
                f"{where}: security scheme {name!r} is of type {shown}; the HTTP API's JWT "
                "authorizer checks only bearer JWTs from the user pool"
            )
        if name != token_scheme:
            raise UnexpressibleSpecError(
                f"{where}: oauth2 scheme {name!r} is not the user pool's scheme "
                f"{token_scheme!r}; the stack has one JWT authorizer"
            )
        listed_scopes = [str(scope) for scope in listed or []]
        if len(listed_scopes) > 1:
            raise UnexpressibleSpecError(
                f"{where}: the requirement needs scopes {', '.join(listed_scopes)} all at "
                "once, but the JWT authorizer accepts a token holding any one of a route's "
                "scopes; require one scope per requirement"
            )
        unknown = sorted(set(listed_scopes) - set(declared_scopes))
        if unknown:
            raise UnexpressibleSpecError(
                f"{where}: scope {', '.join(unknown)} is not declared in the flows of "
                f"{token_scheme!r}, so the user pool's resource server cannot issue it"
            )
        scopes.extend(listed_scopes)
    return scopes
