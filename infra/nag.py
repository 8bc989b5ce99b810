"""cdk-nag acknowledgements: one finding, on one construct, with the reason it is accepted."""

from __future__ import annotations

from aws_cdk import Acknowledgment, Validations
from constructs import IConstruct


def acknowledge(construct: IConstruct, rule: str, reason: str) -> None:
    """Accept the finding ``rule`` (e.g. ``AwsSolutions-L1``) on ``construct``, for ``reason``.

    cdk-nag 3 reads these through CDK's Validations; the reason lands in the validation report.
    """
    Validations.of(construct).acknowledge(Acknowledgment(id=rule, reason=reason))
