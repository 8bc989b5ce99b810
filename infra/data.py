"""CurrencyTable: the DynamoDB table, keyed exactly as currency_api.store expects."""

from __future__ import annotations

from typing import Any, Final

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from constructs import Construct

from currency_api.store import PARTITION_KEY, table_definition

#: The DynamoDB API calls CurrencyStore makes when serving requests (get_item, put_item, scan,
#: and transact_write_items of Put and Delete actions: IAM authorizes each action of a
#: transaction as its single-item counterpart, PutItem and DeleteItem; DynamoDB developer
#: guide, "Using IAM with DynamoDB transactions"). CreateTable and DescribeTable are for local
#: emulators only.
STORE_ACTIONS: Final = (
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:DeleteItem",
    "dynamodb:Scan",
)

_ATTRIBUTE_TYPES: Final = {
    "S": dynamodb.AttributeType.STRING,
    "N": dynamodb.AttributeType.NUMBER,
    "B": dynamodb.AttributeType.BINARY,
}


class CurrencyTable(Construct):
    """On-demand table with point-in-time recovery and encryption at rest.

    Args:
        retain: production settings: deletion protection on, and the table is kept (RETAIN)
            when the stack is deleted. False (a disposable dev stage) allows deletion.
        pitr_days: point-in-time recovery period, 1 to 35 days.
    """

    def __init__(
        self, scope: Construct, construct_id: str, *, retain: bool = True, pitr_days: int = 35
    ) -> None:
        super().__init__(scope, construct_id)
        key = _key_schema()
        self.table = dynamodb.Table(
            self,
            "Table",
            partition_key=key["partition_key"],
            sort_key=key.get("sort_key"),
            billing_mode=key["billing_mode"],
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True, recovery_period_in_days=pitr_days
            ),
            # AWS managed key (aws/dynamodb): its use is visible in CloudTrail, at no key cost.
            encryption=dynamodb.TableEncryption.AWS_MANAGED,
            deletion_protection=retain,
            removal_policy=RemovalPolicy.RETAIN if retain else RemovalPolicy.DESTROY,
        )


def _key_schema() -> dict[str, Any]:
    """Table props from the store's own CreateTable definition (one source of truth)."""
    definition = table_definition("unused")
    types = {a["AttributeName"]: a["AttributeType"] for a in definition["AttributeDefinitions"]}
    props: dict[str, Any] = {
        "billing_mode": (
            dynamodb.BillingMode.PAY_PER_REQUEST
            if definition.get("BillingMode") == "PAY_PER_REQUEST"
            else dynamodb.BillingMode.PROVISIONED
        )
    }
    for element in definition["KeySchema"]:
        name = element["AttributeName"]
        attribute = dynamodb.Attribute(name=name, type=_ATTRIBUTE_TYPES[types[name]])
        props["partition_key" if element["KeyType"] == "HASH" else "sort_key"] = attribute
    if props["partition_key"].name != PARTITION_KEY:
        raise ValueError("table_definition() and PARTITION_KEY disagree")
    return props
