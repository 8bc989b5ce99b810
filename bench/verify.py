"""Token verification alone: ``Authenticator.verify`` on a cache miss and a hit, against the
two-pass verification it replaced (kept here, only for this comparison).

Every call is timed alone (thread CPU and wall clock). Rounds interleave the three paths in a
shuffled order. The miss path gets a token it has never seen on every call (distinct tokens,
signed before timing starts) and a default cache, so it pays the full verification and the
cache insertion; the hit path sends one token again and again.
"""

from __future__ import annotations

import itertools
import random
import statistics
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final

import jwt

from bench.common import ISSUER, JwksServer, SigningKey, lambda_env
from currency_api import auth
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


#: The steps of a miss, in order (Authenticator.verify_noting_cache), and whose code each is.
STEPS: Final = {
    "lookup": "ours: the cache lookup (a miss)",
    "jws": "PyJWT: split, base64url, header JSON, key choice, RSA signature check",
    "rsa": "of which the RSA-2048 signature check alone (cryptography, via PyJWT's RS256)",
    "payload": "PyJWT: the payload JSON",
    "claims": "PyJWT: the claim checks (exp, iat, nbf, iss, required claims)",
    "principal": "ours: the claims' JSON types and the Principal",
    "insert": "ours: the cache insert",
}


@dataclass
class TokenResult:
    """Microseconds per call, by path: wall clock and this thread's CPU; and the wall time of
    each step of a miss (:data:`STEPS`), on fresh tokens."""

    wall: dict[str, list[float]] = field(default_factory=lambda: {p: [] for p in PATHS})
    cpu: dict[str, list[float]] = field(default_factory=lambda: {p: [] for p in PATHS})
    steps: dict[str, list[float]] = field(default_factory=lambda: {s: [] for s in STEPS})

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


def _time_steps(authenticator: Authenticator, token: str, steps: dict[str, list[float]]) -> None:
    """One miss of ``Authenticator.verify_noting_cache``, step by step, each step timed (the
    same calls in the same order; the RSA check is timed again alone, on the same input)."""
    wall = time.perf_counter_ns
    cache, jwks = authenticator.token_cache, authenticator.jwks
    marks = [wall()]
    assert cache.get(token, jwks.generation) is None
    marks.append(wall())
    choice = auth._KeyChoice(jwks)
    decoded = authenticator._jws.decode_complete(
        token,
        key=choice,  # type: ignore[arg-type]  # resolved by auth._SinglePassJWS
        algorithms=[auth.ALGORITHM],
        options=auth._SIGNATURE_OPTIONS,
    )
    marks.append(wall())
    claims = authenticator._decoder._decode_payload(decoded)
    marks.append(wall())
    authenticator._decoder._validate_claims(
        claims, authenticator._claim_options, issuer=authenticator._issuer, leeway=LEEWAY_SECONDS
    )
    marks.append(wall())
    auth.check_claim_types(claims)
    principal = authenticator.principal(claims)
    marks.append(wall())
    assert choice.generation is not None
    cache.put(token, claims, principal, choice.generation)
    marks.append(wall())
    for step, (start, end) in zip(
        ("lookup", "jws", "payload", "claims", "principal", "insert"),
        itertools.pairwise(marks),
        strict=True,
    ):
        steps[step].append((end - start) / 1000)
    signing_input, signature = token.encode().rsplit(b".", 1)
    algorithm = authenticator._jws.get_algorithm_by_name(auth.ALGORITHM)
    key = choice.key_for(decoded["header"])
    raw = authenticator._jws._decode_base64url_segment(signature, "crypto")
    start = wall()
    if not algorithm.verify(signing_input, key, raw):
        raise RuntimeError("the RSA check refused a token verification accepted")
    steps["rsa"].append((wall() - start) / 1000)


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
        # The miss's steps (timed one by one) run as a fourth path in every round, on the
        # same fresh tokens through a cache of their own that has not seen them.
        stepwise = Authenticator(settings, jwks=authenticator.jwks)
        order.append("steps")
        for number in range(rounds):
            shuffle.shuffle(order)
            for path in order:
                # The old path keeps nothing, so it may reuse the miss path's fresh tokens.
                fresh_batch = fresh[number * batch : (number + 1) * batch]
                if path == "steps":
                    for token in fresh_batch:
                        _time_steps(stepwise, token, result.steps)
                    continue
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
    before_wall = result.median("before", "wall")
    step = {name: statistics.median(times) for name, times in result.steps.items()}
    # Sums per token, then their median (a sum of medians understates a skewed whole).
    names = [name for name in STEPS if name != "rsa"]

    def per_token(included: Sequence[str] = names) -> float:
        rows = zip(*(result.steps[name] for name in included), strict=True)
        return float(statistics.median(sum(row) for row in rows))

    library = per_token(("jws", "payload", "claims"))
    # The least a miss can cost while PyJWT verifies and the issue's cache is kept: the
    # library's steps plus the cache's lookup and insert, nothing of ours besides.
    floor = per_token(("jws", "payload", "claims", "lookup", "insert"))
    whole = per_token()
    lines += [
        "",
        f"A miss, step by step (wall, median of {len(result.steps['jws'])} fresh tokens, each "
        "step timed alone in one pass through the same calls, interleaved with the paths "
        "above):",
        "",
        "| step | us | vs before (wall) |",
        "|---|---|---|",
        *(
            f"| {STEPS[name]} | {step[name]:.1f} | {step[name] / before_wall:.2f}x |"
            for name in STEPS
        ),
        f"| PyJWT's steps together, per token (the verification we keep in the library) "
        f"| {library:.1f} | {library / before_wall:.2f}x |",
        f"| PyJWT's steps and the cache's lookup and insert, per token (the least a miss "
        f"costs with PyJWT verifying and the cache kept) | {floor:.1f} "
        f"| {floor / before_wall:.2f}x |",
        f"| every step together, per token | {whole:.1f} | {whole / before_wall:.2f}x |",
        f"| the target, a third of before | {before_wall / 3:.1f} | 0.33x |",
    ]
    return lines
