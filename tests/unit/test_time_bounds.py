"""The production timeouts bound a request's time well inside API Gateway's 30 s."""

from __future__ import annotations

from typing import Any

from botocore.retries.standard import ExponentialBackoff

from currency_api import auth, store

#: API Gateway's maximum integration timeout for HTTP APIs, in seconds (API Gateway quotas).
API_GATEWAY_TIMEOUT = 30.0


def test_client_config_is_standard_mode_with_the_documented_numbers() -> None:
    config = store.CLIENT_CONFIG
    assert getattr(config, "retries") == {  # noqa: B009
        "mode": "standard",
        "total_max_attempts": store.TOTAL_MAX_ATTEMPTS,
    }
    assert getattr(config, "connect_timeout") == store.CONNECT_TIMEOUT_SECONDS  # noqa: B009
    assert getattr(config, "read_timeout") == store.READ_TIMEOUT_SECONDS  # noqa: B009


def test_botocore_backoff_is_what_the_bound_assumes() -> None:
    # worst_case_seconds relies on these; a botocore upgrade that changes them must fail here.
    backoff: Any = ExponentialBackoff
    assert backoff._BASE == 2
    assert backoff._MAX_BACKOFF == 20
    assert backoff._RETRY_AFTER_MAX_ADDITIONAL == 5
    assert backoff._DEFAULT_BACKOFF_CONFIG["throttling_base_scale"] == 1


def test_worst_case_request_time_is_well_inside_api_gateways_timeout() -> None:
    # Budget 8 s + the longest backoff before attempt 3 (2 s + 5 s retry-after allowance)
    # + one attempt (1 s connect + 2 s read) = 18 s for the store, + 2 s for a JWKS fetch.
    worst = store.worst_case_seconds() + auth.JWKS_TIMEOUT_SECONDS
    assert worst == 20.0
    assert worst <= API_GATEWAY_TIMEOUT - 10
