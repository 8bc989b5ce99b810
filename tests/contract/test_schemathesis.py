"""Schemathesis drives every operation of the spec against the app in process, with real tokens.

Budget: a fixed seed and a bounded number of examples in `make test` (tests/contract/conftest.py);
`make fuzz` runs the same tests with a much larger budget. A failure found here becomes a plain
regression test in test_regressions.py, with the input Schemathesis found.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import hypothesis
import schemathesis
from schemathesis.specs.openapi.schemas import OpenApiSchema

from currency_api.store import CurrencyStore
from tests.contract.conftest import SEED, STATEFUL_SCENARIOS, reset_table

schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
def test_every_operation_keeps_the_contract(case: schemathesis.Case[Any]) -> None:
    """Examples, coverage and fuzzing phases; valid and invalid inputs; every check enabled."""
    case.call_and_validate()


def test_linked_sequences_from_create_keep_the_contract(
    api_schema: OpenApiSchema, store: CurrencyStore
) -> None:
    """Stateful scenarios through the spec's links: create a currency, then read, replace, patch
    and delete that same currency (``$response.body#/code``), every response checked."""
    base: Any = api_schema.as_state_machine()
    succeeded: Counter[str] = Counter()

    class CreateThenFollowLinks(base):  # type: ignore[misc]
        def setup(self) -> None:
            # Each scenario starts from the same table, so Hypothesis can replay and shrink it.
            reset_table(store)

        def after_call(self, response: schemathesis.Response, case: schemathesis.Case[Any]) -> None:
            super().after_call(response, case)
            if 200 <= response.status_code < 300:
                succeeded[f"{case.method} {case.operation.path}"] += 1

    hypothesis.seed(SEED)(CreateThenFollowLinks).run(
        settings=hypothesis.settings(
            max_examples=STATEFUL_SCENARIOS,
            stateful_step_count=6,
            deadline=None,
            database=None,
            suppress_health_check=list(hypothesis.HealthCheck),
        )
    )

    # Every link led to a success at least once: the sequences reached the currencies they created.
    for operation in (
        "POST /currencies",
        "GET /currencies/{code}",
        "PUT /currencies/{code}",
        "PATCH /currencies/{code}",
        "DELETE /currencies/{code}",
    ):
        assert succeeded[operation] > 0, (
            f"no successful {operation} in {STATEFUL_SCENARIOS} scenarios: {dict(succeeded)}"
        )
