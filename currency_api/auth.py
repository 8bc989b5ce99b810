"""Cognito access-token verification, named by the spec's securitySchemes.

The spec's ``cognito`` scheme names :func:`token_info` and :func:`validate_scope`; its
``bearerAuth`` scheme names :func:`bearer_info`. They find the app's :class:`Authenticator`
and :class:`OperationScopes` in the ASGI scope, where create_app's middleware puts them.
"""

from __future__ import annotations

import binascii
import hashlib
import json
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import jwt
from jwt.types import Options, SigOptions

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

#: Bounds of the verified-token cache: entries, and bytes of the tokens it keeps (Cognito access
#: tokens are about 1 KB); a longer token is verified every time and never kept.
TOKEN_CACHE_ENTRIES: Final = 1024
TOKEN_CACHE_BYTES: Final = 2 * 1024 * 1024
TOKEN_CACHE_MAX_TOKEN_BYTES: Final = 8 * 1024
#: The only signature algorithm Cognito user pools use for access tokens.
ALGORITHM: Final = "RS256"

#: The claim options of every verification (PyJWT's ``options``): these claims must be present,
#: and there is no ``aud`` (Cognito access tokens carry ``client_id`` instead).
_CLAIM_OPTIONS: Final[Options] = {
    "require": ["exp", "iat", "iss", "sub", "token_use", "client_id"],
    "verify_aud": False,
}
#: The signature options PyJWT.decode derives from :data:`_CLAIM_OPTIONS` (its defaults).
_SIGNATURE_OPTIONS: Final[SigOptions] = {
    "verify_signature": True,
    "enforce_minimum_key_length": False,
}

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
        #: The keys by kid, and their generation: one tuple, swapped whole, so a reader
        #: always sees a key together with the generation it belongs to.
        self._state: tuple[dict[str, jwt.PyJWK], int] = ({}, 0)
        self._fingerprint: str | None = None
        self._last_fetch: float | None = None
        #: Epoch seconds of the last successful fetch, or None before the first.
        self.fetched_at: float | None = None
        self._lock = threading.Lock()

    @property
    def _keys(self) -> dict[str, jwt.PyJWK]:
        return self._state[0]

    @property
    def generation(self) -> int:
        """Grows by one each time a fetch returns a key set that differs from the one held
        (0 before the first fetch): what was verified with an older set is stale."""
        return self._state[1]

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
        fingerprint = hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()
        generation = self.generation + (fingerprint != self._fingerprint)
        self._fingerprint = fingerprint
        self._state = ({key.key_id: key for key in keys if key.key_id}, generation)
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
        return self.key_and_generation(kid)[0]

    def key_and_generation(self, kid: str) -> tuple[jwt.PyJWK | None, int]:
        """:meth:`key`, with the generation of the key set it was found in (or not found).

        Raises:
            DependencyUnavailable: no key was ever fetched and the JWKS endpoint is down.
        """
        keys, generation = self._state
        key = keys.get(kid)
        if key is not None:
            return key, generation
        with self._lock:
            keys, generation = self._state
            key = keys.get(kid)
            if key is not None:
                return key, generation
            if self._due():
                self._fetch()
            keys, generation = self._state
            if not keys:
                raise DependencyUnavailable("token key set")
            return keys.get(kid), generation


class InvalidToken(Exception):
    """The token must be refused (401); the reason is for logs only, never for the caller."""


_BASE64URL_ALPHABET: Final = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
#: ``bytes.translate`` table: base64url (RFC 4648 section 5) to standard base64 (section 4);
#: any other byte to ``*``, which is in neither alphabet.
_TO_STANDARD_BASE64: Final = bytes(
    byte
    if byte in _BASE64URL_ALPHABET[:62]
    else b"+/"[b"-_".index(byte)]
    if byte in b"-_"
    else ord("*")
    for byte in range(256)
)
#: Padding that completes a stripped segment of length 4n + r, by r (4n + 1 is refused).
_BASE64_PADDING: Final = (b"", b"===", b"==", b"=")


class _KeyChoice:
    """Handed to PyJWT as the "key" of one verification: :class:`_SinglePassJWS` asks it for
    the real key once the protected header is parsed, and it remembers the JWKS generation
    that key came from (what the verified-token cache files the result under)."""

    __slots__ = ("generation", "jwks")

    def __init__(self, jwks: JwksCache) -> None:
        self.jwks = jwks
        self.generation: int | None = None

    def key_for(self, header: Mapping[str, Any]) -> Any:
        """The public key that must have signed a token with this protected header.

        Raises:
            InvalidToken: not RS256, no ``kid``, a ``kid`` not in the JWKS, or one naming a
                key that is not RSA (a JWKS may hold other key types, RFC 7517 section 4.1;
                PyJWT's RSA check would fail on it with a TypeError).
            DependencyUnavailable: no signing keys could be fetched.
        """
        if header.get("alg") != ALGORITHM:
            raise InvalidToken("algorithm")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise InvalidToken("no kid")
        key, self.generation = self.jwks.key_and_generation(kid)
        if key is None:
            raise InvalidToken("unknown kid")
        if key.key_type != "RSA":
            raise InvalidToken("not an RSA key")
        return key.key


class _SinglePassJWS(jwt.PyJWS):
    """PyJWT 2.15.1's JWS decoder, with two overrides (pinned: tests/unit/test_pinned_sources.py).

    - Given a :class:`_KeyChoice` as the key, the key is chosen from the header of the very
      parse that is verified, so each token is parsed once (``get_unverified_header`` then
      ``decode`` parsed and checked it twice).
    - Each base64url segment is mapped to standard base64 by one ``bytes.translate`` (C),
      every byte outside the alphabet to one that strict ``binascii.a2b_base64`` refuses,
      instead of a Python generator over every character plus PyJWT's base64url helpers:
      same accepted set, same errors (tests/unit/test_single_pass_jws.py). PyJWT's check was
      most of the cost of verifying a ~1 KB Cognito token; the strict decode instead of
      ``translate(None, alphabet)`` + ``base64url_decode``/``encode`` saves a further ~0.03x
      of the old two-pass verification (~7 us of ~240 us, bench/verify.py).
    """

    def __init__(self) -> None:
        super().__init__(algorithms=[ALGORITHM])

    @staticmethod
    def _decode_base64url_segment(segment: bytes, name: str) -> bytes:
        stripped = segment.rstrip(b"=")
        padding = len(segment) - len(stripped)
        if padding > 2 or (padding and len(segment) % 4 != 0):
            raise jwt.DecodeError(f"Invalid {name} padding")
        # One C pass maps base64url to standard base64 and every other byte (standard
        # base64's "+" and "/" included) to "*", which strict decoding refuses, as it refuses
        # a length of 4n+1.
        standard = stripped.translate(_TO_STANDARD_BASE64)
        try:
            decoded = binascii.a2b_base64(
                standard + _BASE64_PADDING[len(stripped) % 4], strict_mode=True
            )
        except binascii.Error as err:
            raise jwt.DecodeError(f"Invalid {name} padding") from err
        # Canonical only (no stray bits in the last character), as PyJWT's re-encoding check.
        if binascii.b2a_base64(decoded, newline=False).rstrip(b"=") != standard:
            raise jwt.DecodeError(f"Invalid {name} padding")
        return decoded

    def _verify_signature(
        self,
        signing_input: bytes,
        header: dict[str, Any],
        signature: bytes,
        key: Any = "",
        algorithms: Sequence[str] | None = None,
        options: Any = None,
    ) -> None:
        if isinstance(key, _KeyChoice):
            key = key.key_for(header)
        super()._verify_signature(signing_input, header, signature, key, algorithms, options)


@dataclass(frozen=True, slots=True)
class _Verified:
    """A verified token's principal and the time claims PyJWT checked, as PyJWT reads them
    (``int(...)``), so a hit can apply the very same checks at the time of the hit."""

    principal: Principal
    exp: int
    nbf: int | None
    iat: int | None


class VerifiedTokenCache:
    """Principals of tokens that passed full verification, by the exact token string.

    A hit is only given while the time claims still hold now, checked exactly as PyJWT checks
    them on the uncached path (``exp <= now - leeway``, ``nbf > now + leeway`` and
    ``iat > now + leeway`` refuse, ``now`` from the same wall clock), so nothing is accepted
    from the cache that verification would refuse at that moment. Entries carry the JWKS
    generation they were verified under; a lookup under another generation empties the
    cache (keys rotated or removed). Only successes are stored: a refused token is verified
    again every time. Bounded in entries and in the bytes of the tokens held (least recently
    used evicted first); a token over ``max_token_bytes`` is never stored.
    Thread-safe (uvicorn runs security checks on the event loop, tests in threads).
    """

    def __init__(
        self,
        max_entries: int = TOKEN_CACHE_ENTRIES,
        max_bytes: int = TOKEN_CACHE_BYTES,
        max_token_bytes: int = TOKEN_CACHE_MAX_TOKEN_BYTES,
        leeway: float = LEEWAY_SECONDS,
    ) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.max_token_bytes = min(max_token_bytes, max_bytes)
        self._leeway = leeway
        self._entries: OrderedDict[str, _Verified] = OrderedDict()
        self._generation: int | None = None
        self._lock = threading.Lock()
        #: Bytes of the tokens held.
        self.bytes = 0
        #: Lookups answered from the cache / not (counters for metrics and tests).
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, token: str, generation: int) -> Principal | None:
        """The principal of ``token`` if it was verified under this JWKS generation and its
        time claims hold now; else None (and an entry that no longer holds is dropped)."""
        with self._lock:
            if generation != self._generation:
                self._clear()
                self._generation = generation
            entry = self._entries.get(token)
            if entry is None:
                self.misses += 1
                return None
            now = time.time()  # what PyJWT's datetime.now(tz=timezone.utc).timestamp() reads
            leeway = self._leeway
            if (
                entry.exp <= now - leeway
                or (entry.nbf is not None and entry.nbf > now + leeway)
                or (entry.iat is not None and entry.iat > now + leeway)
            ):
                self._drop(token)
                self.misses += 1
                return None
            self._entries.move_to_end(token)
            self.hits += 1
            return entry.principal

    def put(
        self, token: str, claims: Mapping[str, Any], principal: Principal, generation: int
    ) -> None:
        """Remember a token that passed verification under JWKS ``generation``."""
        size = len(token)
        if size > self.max_token_bytes or self.max_entries < 1:
            return
        entry = _Verified(
            principal, int(claims["exp"]), _int_or_none(claims, "nbf"), _int_or_none(claims, "iat")
        )
        with self._lock:
            if self._generation is not None and generation < self._generation:
                return  # verified with keys that a fetch has replaced meanwhile
            if generation != self._generation:
                self._clear()
                self._generation = generation
            if token in self._entries:
                self._drop(token)
            while self._entries and (
                len(self._entries) >= self.max_entries or self.bytes + size > self.max_bytes
            ):
                self._drop(next(iter(self._entries)))
            self._entries[token] = entry
            self.bytes += size

    def clear(self) -> None:
        with self._lock:
            self._clear()

    def _clear(self) -> None:
        self._entries.clear()
        self.bytes = 0

    def _drop(self, token: str) -> None:
        del self._entries[token]
        self.bytes -= len(token)


def _int_or_none(claims: Mapping[str, Any], name: str) -> int | None:
    value = claims.get(name)
    return None if value is None else int(value)


class Authenticator:
    """Verifies Cognito access tokens and decides grants.

    Checks (Cognito developer guide, "Verifying a JSON web token"): RS256 only; ``kid``
    in the JWKS; signature; exact ``iss``; ``token_use`` = ``access``; ``client_id`` one of
    ours; ``exp``, ``nbf`` and ``iat`` within :data:`LEEWAY_SECONDS`.
    """

    def __init__(
        self,
        settings: Settings,
        jwks: JwksCache | None = None,
        token_cache: VerifiedTokenCache | None = None,
    ) -> None:
        self._issuer = settings.cognito_issuer
        self._client_ids = frozenset(settings.cognito_app_client_ids)
        self._admin_group = settings.admin_group
        self._trust_gateway = settings.trust_gateway_claims
        self.jwks = jwks or JwksCache(
            settings.cognito_jwks_url, settings.jwks_refetch_interval_seconds
        )
        self.token_cache = token_cache if token_cache is not None else VerifiedTokenCache()
        self._jws = _SinglePassJWS()
        self._decoder = jwt.PyJWT()
        self._decoder._jws = self._jws
        # PyJWT.decode merges these into its defaults on every call; merged once here.
        self._claim_options = self._decoder._merge_options(_CLAIM_OPTIONS)

    def verify(self, token: str) -> Principal:
        """The principal of a genuine, current access token (see :meth:`verify_noting_cache`).

        Raises:
            InvalidToken: the token must be refused.
            DependencyUnavailable: no signing keys could be fetched.
        """
        return self.verify_noting_cache(token)[0]

    def verify_noting_cache(self, token: str) -> tuple[Principal, bool]:
        """The principal of a genuine, current access token, and whether the verified-token
        cache answered (True) or the token was fully verified (False).

        A token verified before (same string, same JWKS, time claims still valid now) is
        answered from :attr:`token_cache`; any other is parsed once and fully verified.

        Raises:
            InvalidToken: the token must be refused.
            DependencyUnavailable: no signing keys could be fetched.
        """
        principal = self.token_cache.get(token, self.jwks.generation)
        if principal is not None:
            return principal, True
        choice = _KeyChoice(self.jwks)
        try:
            # What PyJWT.decode(token, key, algorithms=[ALGORITHM], issuer=..., leeway=...,
            # options=_CLAIM_OPTIONS) does, minus its per-call wrapping and option merging:
            # the JWS (signature) step, then the payload and claim steps, with the options
            # decided once (pinned: tests/unit/test_pinned_sources.py; bench/verify.py).
            decoded = self._jws.decode_complete(
                token,
                key=choice,  # type: ignore[arg-type]  # resolved by _SinglePassJWS
                algorithms=[ALGORITHM],
                options=_SIGNATURE_OPTIONS,
            )
            claims = self._decoder._decode_payload(decoded)
            self._decoder._validate_claims(
                claims, self._claim_options, issuer=self._issuer, leeway=LEEWAY_SECONDS
            )
        except jwt.PyJWTError as exc:
            raise InvalidToken(type(exc).__name__) from exc
        check_claim_types(claims)
        principal = self.principal(claims)
        if choice.generation is not None:
            self.token_cache.put(token, claims, principal, choice.generation)
        return principal, False

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
        """Verify once per request: the spec's alternative schemes carry the same token, so
        its outcome, refusal included, is kept in the request's scope (never across requests:
        see :class:`VerifiedTokenCache`)."""
        scope = request.scope  # one lookup: ConnexionRequest proxies each attribute access
        cached = scope.get(_PRINCIPAL_KEY)
        if cached is not None and cached[0] == token:
            return cached[1]  # type: ignore[no-any-return]
        hit = None
        try:
            if self._trust_gateway:
                claims = _gateway_claims(scope)
                # The authorizer checked the issuer too; a mismatch means a misconfigured one.
                if claims.get("iss") != self._issuer:
                    raise InvalidToken("issuer")
                principal = self.principal(claims)
            else:
                principal, hit = self.verify_noting_cache(token)
        except InvalidToken as exc:
            logger.info("access token refused: %s", exc)
            scope[_PRINCIPAL_KEY] = (token, None)
            return None
        finally:
            _note_cache_hit(scope, hit)
        scope[_PRINCIPAL_KEY] = (token, principal)
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


def _note_cache_hit(scope: Mapping[str, Any], hit: bool | None) -> None:
    """Tell the access record (and so the request's metrics) whether the token cache hit."""
    from currency_api.logs import SCOPE_KEY as ACCESS_KEY
    from currency_api.logs import AccessRecord

    record = scope.get(ACCESS_KEY)
    if isinstance(record, AccessRecord) and hit is not None:
        record.token_cache_hit = hit


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
    from connexion.context import scope

    cached = scope.get(_PRINCIPAL_KEY)
    if cached is None or cached[1] is None:
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
    scope = request.scope
    scopes = scope.get(OPERATION_SCOPES_KEY)
    if not isinstance(scopes, OperationScopes):
        raise RuntimeError("create_app did not install the operations' scopes")
    alternatives = scopes.of(scope)
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
