"""CDK app entry (cdk.json runs ``python3 -m infra.app``): one CurrencyApiStack, checked by cdk-nag.

Knobs come from CDK context (cdk.json, or ``cdk synth -c currency-api:stage=dev``):

=================================  ======================================================
``currency-api:region``            the region the stack is for (pinned in cdk.json)
``currency-api:stage``             deployment name, default ``prod``
``currency-api:retain``            keep data on stack deletion and protect the table and
                                   the pool from deletion; default true, except for the
                                   stage ``dev``
``currency-api:corsAllowOrigins``  browser origins, a list or comma-separated
``currency-api:callbackUrls``      extra OAuth redirect URLs of the web client
``currency-api:logoutUrls``        extra sign-out URLs of the web client
``currency-api:domainPrefix``      Cognito hosted domain prefix
``currency-api:plusPlan``          Cognito Plus feature plan with threat protection
``currency-api:gatewayAuthorizer`` the gateway's JWT authorizer on the secured routes too
                                   (default false: the app verifies every token)
``currency-api:alarmEmail``        an address the alarm topic mails (confirmed by it)
``currency-api:alarmThresholds``   alarm thresholds to change, an object (or its JSON) of
                                   infra.monitoring.AlarmThresholds fields, e.g.
                                   ``{"latency_p99_ms": 500}``
``currency-api:tracing``           X-Ray active tracing on the function; default true
``currency-api:fargate``           also serve the app from ECS Fargate behind a load
                                   balancer (infra/service.py); default false
``currency-api:certificateArn``    ACM certificate for the load balancer's HTTPS
=================================  ======================================================
"""

from __future__ import annotations

import dataclasses
import json
import os
import warnings
from collections.abc import Mapping
from typing import Any, Final

# The stack imports the app's constants, and so Connexion, whose imports warn about its own
# dependencies (starlette's test client, jsonschema's RefResolver): noise in `cdk synth`.
warnings.filterwarnings("ignore", module=r"connexion(\.|$)")

from aws_cdk import App, Environment, Validations  # noqa: E402
from cdk_nag import AwsSolutionsChecks  # noqa: E402

from infra.monitoring import AlarmThresholds  # noqa: E402
from infra.stack import CurrencyApiStack  # noqa: E402

PREFIX: Final = "currency-api:"
DEFAULT_REGION: Final = "us-east-1"


def build_app(context: Mapping[str, Any] | None = None, outdir: str | None = None) -> App:
    """The app with its stack and the AWS Solutions checks registered.

    Args:
        context: CDK context (tests pass cdk.json's); the CLI passes its own through the
            environment when this is None.
        outdir: the cloud assembly folder (tests); the CLI sets it otherwise.
    """
    app = App(context=dict(context) if context is not None else None, outdir=outdir)

    def knob(name: str, default: Any = None) -> Any:
        value = app.node.try_get_context(PREFIX + name)
        return default if value is None else value

    stage = str(knob("stage", "prod"))
    CurrencyApiStack(
        app,
        f"CurrencyApi-{stage}",
        description=f"Currency API ({stage}): HTTP API, Lambda, DynamoDB, Cognito",
        env=Environment(
            account=os.environ.get("CDK_DEFAULT_ACCOUNT"),
            region=str(knob("region", DEFAULT_REGION)),
        ),
        stage=stage,
        retain=_flag(knob("retain", stage != "dev")),
        cors_allow_origins=_list(knob("corsAllowOrigins", [])),
        callback_urls=_list(knob("callbackUrls", [])),
        logout_urls=_list(knob("logoutUrls", [])),
        domain_prefix=knob("domainPrefix"),
        plus_plan=_flag(knob("plusPlan", False)),
        gateway_authorizer=_flag(knob("gatewayAuthorizer", False)),
        alarm_email=knob("alarmEmail") or None,
        alarm_thresholds=thresholds(knob("alarmThresholds", {})),
        tracing=_flag(knob("tracing", True)),
        fargate=_flag(knob("fargate", False)),
        certificate_arn=knob("certificateArn") or None,
        analytics_reporting=False,
    )
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return app


def thresholds(value: Any) -> AlarmThresholds:
    """AlarmThresholds with the given fields changed: a mapping, or its JSON text.

    Raises:
        ValueError: not an object, an unknown field, or a value that is not a number.
    """
    changes = json.loads(value) if isinstance(value, str) else value
    if not isinstance(changes, Mapping):
        raise ValueError(f"alarmThresholds must be an object, not {value!r}")
    known = {field.name: field.type for field in dataclasses.fields(AlarmThresholds)}
    unknown = sorted(set(changes) - set(known))
    if unknown:
        raise ValueError(f"alarmThresholds: unknown {', '.join(unknown)}; known: {sorted(known)}")
    for name, number in changes.items():
        if isinstance(number, bool) or not isinstance(number, int | float) or number <= 0:
            raise ValueError(f"alarmThresholds: {name} must be a positive number, not {number!r}")
    return dataclasses.replace(AlarmThresholds(), **changes)


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"true", "1", "yes"}:
        return True
    if text in {"false", "0", "no"}:
        return False
    raise ValueError(f"expected true or false, not {value!r}")


def _list(value: Any) -> list[str]:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return [str(part) for part in value]


def main() -> None:
    """Synthesize into the folder the CDK CLI asked for."""
    build_app().synth()


if __name__ == "__main__":
    main()
