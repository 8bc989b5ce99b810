"""Token verification alone: ``Authenticator.verify`` on a cache miss and a hit, against the
two-pass verification it replaced (kept here, only for this comparison).

Every call is timed alone (thread CPU and wall clock). Rounds interleave the three paths in a
shuffled order. The miss path gets a token it has never seen on every call (distinct tokens,
signed before timing starts) and a default cache, so it pays the full verification and the
cache insertion; the hit path sends one token again and again.
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final

import jwt

from bench.common import ISSUER, JwksServer, SigningKey, lambda_env
from currency_api.auth import LEEWAY_SECONDS, Authenticator, InvalidToken, JwksCache, Principal
from currency_api.settings import Settings

PATHS: Final = ("before", "miss", "hit")
LABELS: Final = {
    "before": "before issue 12: header parse, then decode (two passes)",
    "miss": "Authenticator.verify, a fresh token every call (cache miss + insert)",
    "hit": "Authenticator.verify, the same token again (cache hit)",
}


def two_pass_verify(authenticator: Authenticator, jwks: JwksCache, token: str) -> Principal:
    """A copy of ``Authenticator.verify`` as it was before issue 12 (commit 7848b44), for the
    comparison only: ``jwt.get_unverified_header`` parses and checks the whole token, then
    ``jwt.decode`` parses and checks it again."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise InvalidToken("not a JWS") from exc
    if header.get("alg") != "RS256":
        raise InvalidToken("algorithm")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise InvalidToken("no kid")
    key = jwks.key(kid)
    if key is None:
        raise InvalidToken("unknown kid")
    try:
        claims = jwt.decode(
            token,
            key=key.key,
            algorithms=["RS256"],
            issuer=ISSUER,
            leeway=LEEWAY_SECONDS,
            options={
                "require": ["exp", "iat", "iss", "sub", "token_use", "client_id"],
                "verify_aud": False,
            },
        )
    except jwt.PyJWTError as exc:
        raise InvalidToken(type(exc).__name__) from exc
    return authenticator.principal(claims)


@dataclass
class TokenResult:
    """Microseconds per call, by path: wall clock and this thread's CPU."""

    wall: dict[str, list[float]] = field(default_factory=lambda: {p: [] for p in PATHS})
    cpu: dict[str, list[float]] = field(default_factory=lambda: {p: [] for p in PATHS})

    def median(self, path: str, clock: str = "cpu") -> float:
        return statistics.median((self.cpu if clock == "cpu" else self.wall)[path])


def _timed(
    call: Callable[[str], Principal], tokens: Sequence[str]
) -> tuple[list[float], list[float]]:
    walls: list[float] = []
    cpus: list[float] = []
    wall, cpu = time.perf_counter_ns, time.thread_time_ns
    for token in tokens:
        start_cpu, start = cpu(), wall()
        call(token)
        end, end_cpu = wall(), cpu()
        walls.append((end - start) / 1000)
        cpus.append((end_cpu - start_cpu) / 1000)
    return walls, cpus


def measure(
    rounds: int, batch: int, progress: Callable[[str], None] = lambda _msg: None
) -> TokenResult:
    """``rounds`` x ``batch`` timed calls of each path, interleaved."""
    key = SigningKey()
    # Distinct users so the tokens differ in every segment, as different callers' do.
    fresh = [key.access_token(username=f"bench-user-{i}") for i in range(rounds * batch)]
    repeated = [key.access_token()] * batch
    result = TokenResult()
    shuffle = random.Random(12)
    with JwksServer(key.jwks) as server:
        settings = Settings.from_env(dict(lambda_env(server.url)))
        authenticator = Authenticator(settings)
        authenticator.jwks.refresh()
        old = Authenticator(settings, jwks=authenticator.jwks)
        calls: Mapping[str, Callable[[str], Principal]] = {
            "before": lambda token: two_pass_verify(old, authenticator.jwks, token),
            "miss": authenticator.verify,
            "hit": authenticator.verify,
        }
        for path in PATHS:  # warm-up
            _timed(calls[path], repeated[:50])
        order = list(PATHS)
        for number in range(rounds):
            shuffle.shuffle(order)
            for path in order:
                # The old path keeps nothing, so it may reuse the miss path's fresh tokens.
                fresh_batch = fresh[number * batch : (number + 1) * batch]
                tokens: Sequence[str] = repeated if path == "hit" else fresh_batch
                walls, cpus = _timed(calls[path], tokens)
                result.wall[path].extend(walls)
                result.cpu[path].extend(cpus)
            progress(f"token round {number + 1}/{rounds}")
        hits, misses = authenticator.token_cache.hits, authenticator.token_cache.misses
    if hits < rounds * batch or misses < rounds * batch:
        raise RuntimeError(f"the cache did not behave as measured: {hits} hits, {misses} misses")
    return result


def section(result: TokenResult) -> list[str]:
    """The RESULTS.md section."""
    before = result.median("before")
    lines = [
        "### Token verification alone (RS256 Cognito-shaped access token, ~1 KB), "
        "microseconds per call, median",
        "",
        "| path | CPU | vs before | wall | calls |",
        "|---|---|---|---|---|",
    ]
    for path in PATHS:
        cpu = result.median(path)
        lines.append(
            f"| {LABELS[path]} | {cpu:.1f} | {cpu / before:.2f}x "
            f"| {result.median(path, 'wall'):.1f} | {len(result.cpu[path])} |"
        )
    return lines
