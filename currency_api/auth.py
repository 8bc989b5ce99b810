"""Cognito access-token verification, named by the spec's securitySchemes.

The spec's ``cognito`` scheme names :func:`token_info` and :func:`validate_scope`; its
``bearerAuth`` scheme names :func:`bearer_info`. They find the app's :class:`Authenticator`
and :class:`OperationScopes` in the ASGI scope, where create_app's middleware puts them.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import jwt

from currency_api.problems import DependencyUnavailable
from currency_api.settings import Settings

if TYPE_CHECKING:
    # Annotations only: verification itself needs no web framework (bench/ reuses it).
    from connexion.lifecycle import ConnexionRequest

logger = logging.getLogger(__name__)

#: Scopes of the resource server, as the spec names them.
READ_SCOPE: Final = "currencies/read"
WRITE_SCOPE: Final = "currencies/write"

#: Seconds of clock skew tolerated on exp, nbf and iat.
LEEWAY_SECONDS: Final = 30
#: Seconds a JWKS fetch may take before it is abandoned.
JWKS_TIMEOUT_SECONDS: Final = 2

SCOPE_KEY: Final = "currency_api.authenticator"
#: Where create_app puts the :class:`OperationScopes` of its spec in the ASGI scope.
OPERATION_SCOPES_KEY: Final = "currency_api.operation_scopes"
_PRINCIPAL_KEY: Final = "currency_api.principal"


@dataclass(frozen=True, slots=True)
class Principal:
    """Who called: from a verified Cognito access token.

    ``scopes`` are the token's own scopes; ``grants`` are the API scopes the caller holds
    after the admin-group rule (a user in the admin group may write; every user may read).
    """

    subject: str
    client_id: str
    username: str | None
    groups: tuple[str, ...]
    scopes: tuple[str, ...]
    grants: tuple[str, ...]

    @property
    def is_user(self) -> bool:
        return self.username is not None

    def token_info(self) -> dict[str, Any]:
        """The mapping Connexion keeps as ``token_info``; ``scope`` holds the grants."""
        return {
            "sub": self.subject,
            "client_id": self.client_id,
            "username": self.username,
            "groups": list(self.groups),
            "token_scopes": list(self.scopes),
            "scope": list(self.grants),
        }


class JwksCache:
    """The user pool's JSON Web Key Set, fetched once and refetched at most once per interval.

    An unknown ``kid`` (key rotation) triggers a refetch, but no more often than
    ``refetch_interval`` seconds; a failed fetch keeps the keys already cached. While no key
    was ever fetched, a failed fetch is retried at most once per ``empty_retry_interval``
    seconds, so an outage is answered at once (503) instead of queueing every request behind
    another fetch. Each fetch gives up after ``timeout`` seconds per network operation.
    JWKS format: RFC 7517; Cognito serves it at ``{issuer}/.well-known/jwks.json``.
    ``clock`` (monotonic) gates refetches; ``wall_clock`` (epoch seconds) dates the keys, which
    stays meaningful across a SnapStart restore.
    """

    def __init__(
        self,
        url: str,
        refetch_interval: float = 300.0,
        timeout: float = JWKS_TIMEOUT_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        empty_retry_interval: float = 1.0,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self._client = jwt.PyJWKClient(url, cache_jwk_set=False, cache_keys=False, timeout=timeout)
        self._interval = refetch_interval
        self._empty_retry_interval = empty_retry_interval
        self._clock = clock
        self._wall_clock = wall_clock
        self._keys: dict[str, jwt.PyJWK] = {}
        self._last_fetch: float | None = None
        #: Epoch seconds of the last successful fetch, or None before the first.
        self.fetched_at: float | None = None
        self._lock = threading.Lock()

    def key_ids(self) -> tuple[str, ...]:
        """The ids of the cached keys (empty before the first successful fetch)."""
        return tuple(self._keys)

    def after_restore(self) -> bool:
        """After a SnapStart restore: reopen the refetch gate, refetch keys older than the
        refetch interval. True if a refetch happened and succeeded.

        The monotonic time of the last fetch was taken before the snapshot and means nothing
        now; the wall-clock age of the keys does.
        """
        with self._lock:
            self._last_fetch = None
            stale = self.fetched_at is None or (
                self._wall_clock() - self.fetched_at >= self._interval
            )
            return self._fetch() if stale else False

    def refresh(self) -> bool:
        """Fetch the key set now. True if it was fetched; on failure the old keys stay."""
        with self._lock:
            return self._fetch()

    def _fetch(self) -> bool:
        try:
            data = self._client.fetch_data()
            keys = jwt.PyJWKSet.from_dict(data).keys
        except Exception as exc:  # any failure (network, HTTP, JSON, JWK) keeps the cache
            logger.warning("JWKS fetch failed: %s", type(exc).__name__)
            return False
        finally:
            # Counted from the end of the attempt: requests that queued behind a slow fetch
            # do not start another one.
            self._last_fetch = self._clock()
        self._keys = {key.key_id: key for key in keys if key.key_id}
        self.fetched_at = self._wall_clock()
        return True

    def _due(self) -> bool:
        if self._last_fetch is None:
            return True
        interval = self._interval if self._keys else self._empty_retry_interval
        return self._clock() - self._last_fetch >= interval

    def key(self, kid: str) -> jwt.PyJWK | None:
        """The key with this id, refetching the set if allowed.

        Raises:
            DependencyUnavailable: no key was ever fetched and the JWKS endpoint is down.
        """
        key = self._keys.get(kid)
        if key is not None:
            return key
        with self._lock:
            key = self._keys.get(kid)
            if key is not None:
                return key
            if self._due():
                self._fetch()
            if not self._keys:
                raise DependencyUnavailable("token key set")
            return self._keys.get(kid)


class InvalidToken(Exception):
    """The token must be refused (401); the reason is for logs only, never for the caller."""


class Authenticator:
    """Verifies Cognito access tokens and decides grants.

    Checks (Cognito developer guide, "Verifying a JSON web token"): RS256 only; ``kid``
    in the JWKS; signature; exact ``iss``; ``token_use`` = ``access``; ``client_id`` one of
    ours; ``exp``, ``nbf`` and ``iat`` within :data:`LEEWAY_SECONDS`.
    """

    def __init__(self, settings: Settings, jwks: JwksCache | None = None) -> None:
        self._issuer = settings.cognito_issuer
        self._client_ids = frozenset(settings.cognito_app_client_ids)
        self._admin_group = settings.admin_group
        self._trust_gateway = settings.trust_gateway_claims
        self.jwks = jwks or JwksCache(
            settings.cognito_jwks_url, settings.jwks_refetch_interval_seconds
        )

    def verify(self, token: str) -> Principal:
        """The principal of a genuine, current access token.

        Raises:
            InvalidToken: the token must be refused.
            DependencyUnavailable: no signing keys could be fetched.
        """
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise InvalidToken("not a JWS") from exc
        if header.get("alg") != "RS256":
            raise InvalidToken("algorithm")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise InvalidToken("no kid")
        key = self.jwks.key(kid)
        if key is None:
            raise InvalidToken("unknown kid")
        try:
            claims = jwt.decode(
                token,
                key=key.key,
                algorithms=["RS256"],
                issuer=self._issuer,
                leeway=LEEWAY_SECONDS,
                options={
                    "require": ["exp", "iat", "iss", "sub", "token_use", "client_id"],
                    "verify_aud": False,
                },
            )
        except jwt.PyJWTError as exc:
            raise InvalidToken(type(exc).__name__) from exc
        check_claim_types(claims)
        return self.principal(claims)

    def principal(self, claims: Mapping[str, Any]) -> Principal:
        """The principal of verified claims (from a token, or from the gateway's authorizer).

        Raises:
            InvalidToken: not an access token of one of our app clients.
        """
        if claims.get("token_use") != "access":
            raise InvalidToken("token_use")
        client_id = claims.get("client_id")
        if not isinstance(client_id, str) or client_id not in self._client_ids:
            raise InvalidToken("client_id")
        subject = claims.get("sub")
        if not isinstance(subject, str) or not subject:
            raise InvalidToken("sub")
        username = claims.get("username")
        groups = _string_list(claims.get("cognito:groups"))
        scopes = tuple(str(claims.get("scope", "")).split())
        grants: set[str]
        if isinstance(username, str):
            # A person: every user may read; only the admin group may write, whatever scopes
            # the user's app client was allowed to ask for.
            grants = {READ_SCOPE}
            if self._admin_group in groups:
                grants.add(WRITE_SCOPE)
        else:
            # A service (client credentials): its scopes decide; write implies read.
            grants = {s for s in scopes if s in (READ_SCOPE, WRITE_SCOPE)}
            if WRITE_SCOPE in grants:
                grants.add(READ_SCOPE)
        return Principal(
            subject=subject,
            client_id=str(client_id),
            username=username if isinstance(username, str) else None,
            groups=groups,
            scopes=scopes,
            grants=tuple(sorted(grants)),
        )

    def authenticate(self, token: str, request: ConnexionRequest) -> Principal | None:
        """Verify once per request (both security schemes of an operation share the token)."""
        cached = request.scope.get(_PRINCIPAL_KEY)
        if cached is not None and cached[0] == token:
            return cached[1]  # type: ignore[no-any-return]
        try:
            if self._trust_gateway:
                claims = _gateway_claims(request.scope)
                # The authorizer checked the issuer too; a mismatch means a misconfigured one.
                if claims.get("iss") != self._issuer:
                    raise InvalidToken("issuer")
                principal = self.principal(claims)
            else:
                principal = self.verify(token)
        except InvalidToken as exc:
            logger.info("access token refused: %s", exc)
            return None
        request.scope[_PRINCIPAL_KEY] = (token, principal)
        return principal


#: Claims that are NumericDates (RFC 7519 section 2: a JSON number of seconds since the epoch;
#: Cognito's ``auth_time`` too). PyJWT 2.15 reads ``exp``, ``nbf`` and ``iat`` with ``int()``,
#: so it takes ``"9999999999"``, ``true`` and ``1e10`` as well; ``auth_time`` it never reads.
NUMERIC_DATE_CLAIMS: Final = ("exp", "iat", "nbf", "auth_time")


def check_claim_types(claims: Mapping[str, Any]) -> None:
    """Refuse a verified token whose claims do not have their specified JSON types.

    Each of :data:`NUMERIC_DATE_CLAIMS` present is a JSON number (not a string, not a
    boolean); ``cognito:groups``, if present, is an array of strings (Cognito developer guide,
    "Understanding the access token"). The string form ``"[a b]"`` exists only in the claims
    API Gateway's JWT authorizer flattens, which :meth:`Authenticator.principal` still reads
    in TRUST_API_GATEWAY_CLAIMS mode; a signed token never carries it.

    Raises:
        InvalidToken: a claim has another type.
    """
    for name in NUMERIC_DATE_CLAIMS:
        value = claims.get(name)
        if name in claims and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise InvalidToken(f"{name} is not a number")
    groups = claims.get("cognito:groups")
    if "cognito:groups" in claims and not (
        isinstance(groups, list) and all(isinstance(group, str) for group in groups)
    ):
        raise InvalidToken("cognito:groups is not a list of strings")


def _string_list(value: Any) -> tuple[str, ...]:
    if isinstance(value, list):
        return tuple(str(v) for v in value)
    if isinstance(value, str):
        # API Gateway flattens array claims into "[a b]" strings.
        text = value.strip()
        if text.startswith("[") and text.endswith("]"):
            try:
                parsed = json.loads(text)
            except ValueError:
                # Cognito group names hold no white space but may hold commas.
                parsed = text[1:-1].split()
            return tuple(str(v) for v in parsed) if isinstance(parsed, list) else ()
        return tuple(text.split())
    return ()


def _gateway_claims(scope: Mapping[str, Any]) -> Mapping[str, Any]:
    event = scope.get("aws.event")
    try:
        claims = event["requestContext"]["authorizer"]["jwt"]["claims"]  # type: ignore[index]
    except (TypeError, KeyError):
        raise InvalidToken("no gateway claims") from None
    if not isinstance(claims, Mapping):
        raise InvalidToken("no gateway claims")
    return claims


def current_principal() -> Principal:
    """The caller of the request being handled (after the security check passed).

    Raises:
        RuntimeError: called outside a secured operation.
    """
    from connexion import request

    cached = request.scope.get(_PRINCIPAL_KEY)
    if cached is None:
        raise RuntimeError("no authenticated caller for this request")
    principal: Principal = cached[1]
    return principal


def _authenticator(request: ConnexionRequest) -> Authenticator:
    authenticator = request.scope.get(SCOPE_KEY)
    if not isinstance(authenticator, Authenticator):
        raise RuntimeError("create_app did not install the authenticator")
    return authenticator


def token_info(token: str, request: ConnexionRequest) -> dict[str, Any] | None:
    """``x-tokenInfoFunc`` of the ``cognito`` scheme: token info, or None to refuse (401)."""
    principal = _authenticator(request).authenticate(token, request)
    return None if principal is None else principal.token_info()


def bearer_info(token: str, request: ConnexionRequest) -> dict[str, Any] | None:
    """``x-bearerInfoFunc`` of the ``bearerAuth`` scheme: the same token, verified once, held
    to the scopes of the operation's oauth2 alternatives.

    OpenAPI 3.0 gives an http bearer requirement no scopes, and Connexion accepts the first
    alternative that succeeds, so without this check any valid token would pass every
    operation through ``bearerAuth``. The scopes come from :func:`operation_scopes`, built once
    from the spec by create_app.

    Raises:
        OAuthScopeProblem: the token is valid but grants none of the alternatives (403).
        RuntimeError: create_app did not install the operations' scopes.
    """
    info = token_info(token, request)
    if info is None:
        return None
    scopes = request.scope.get(OPERATION_SCOPES_KEY)
    if not isinstance(scopes, OperationScopes):
        raise RuntimeError("create_app did not install the operations' scopes")
    alternatives = scopes.of(request.scope)
    grants = info["scope"]
    if not any(validate_scope(list(required), grants) for required in alternatives):
        from connexion.exceptions import OAuthScopeProblem

        raise OAuthScopeProblem(
            required_scopes=sorted({s for required in alternatives for s in required}),
            token_scopes=grants,
        )
    return info


@dataclass(frozen=True, slots=True)
class OperationScopes:
    """The scope sets each operation accepts through its oauth2 alternatives, by operationId.

    ``{"createCurrency": (("currencies/write",),)}``: any one set suffices, all scopes of a set
    are needed (OpenAPI 3.0, "Security Requirement Object"). An operation secured only by
    bearer requirements maps to ``((),)``: any valid token.
    """

    by_operation: Mapping[str, tuple[tuple[str, ...], ...]]

    @classmethod
    def from_spec(cls, document: Mapping[str, Any]) -> OperationScopes:
        """Read every operation's security (its own, else the document's) once, at build."""
        schemes = (document.get("components") or {}).get("securitySchemes") or {}
        oauth = {name for name, scheme in schemes.items() if scheme.get("type") == "oauth2"}
        default = document.get("security") or []
        found: dict[str, tuple[tuple[str, ...], ...]] = {}
        for item in (document.get("paths") or {}).values():
            for operation in item.values():
                if not isinstance(operation, Mapping) or "operationId" not in operation:
                    continue
                security = operation.get("security", default) or []
                sets = tuple(
                    tuple(str(s) for name, listed in req.items() if name in oauth for s in listed)
                    for req in security
                    if any(name in oauth for name in req)
                )
                found[str(operation["operationId"])] = sets or ((),)
        return cls(found)

    def of(self, scope: Mapping[str, Any]) -> tuple[tuple[str, ...], ...]:
        """The scope sets of the operation Connexion routed this request to; none (so no
        token passes) for an operation the spec does not name."""
        routing = (scope.get("extensions") or {}).get("connexion_routing") or {}
        # Connexion's operation_id is the resolved one ("handlers.currencies.getCurrency").
        operation_id = str(routing.get("operation_id") or "").rpartition(".")[2]
        return self.by_operation.get(operation_id, ())


def validate_scope(required_scopes: list[str], token_scopes: list[str]) -> bool:
    """``x-scopeValidateFunc``: every required scope must be among the caller's grants.

    The grants already fold in "write implies read" and the admin group (see
    :meth:`Authenticator.principal`), so "scope or group" is decided in one place.
    """
    return set(required_scopes) <= set(token_scopes)
