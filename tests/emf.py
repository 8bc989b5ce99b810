"""The CloudWatch embedded metric format (EMF), as its specification defines a document.

Source: CloudWatch user guide, "Specification: Embedded metric format": the root holds
``_aws`` (``Timestamp``, epoch milliseconds, and ``CloudWatchMetrics``, an array of metric
directives); a directive holds ``Namespace``, ``Dimensions`` (an array of dimension sets, each
an array of at most 30 dimension names) and ``Metrics`` (at most 100 definitions of ``Name``,
optional ``Unit`` among CloudWatch's standard units, optional ``StorageResolution`` 1 or 60),
and no other member; every dimension name a directive references is a root member holding a
string, and every metric name a root member holding a number or an array of at most 100
numbers. A log event is one JSON object with nothing before or after it: one line.
"""

from __future__ import annotations

import json
from typing import Any, Final

import jsonschema

#: CloudWatch's standard units (CloudWatch API reference, MetricDatum "Unit").
STANDARD_UNITS: Final = (
    "Seconds",
    "Microseconds",
    "Milliseconds",
    "Bytes",
    "Kilobytes",
    "Megabytes",
    "Gigabytes",
    "Terabytes",
    "Bits",
    "Kilobits",
    "Megabits",
    "Gigabits",
    "Terabits",
    "Percent",
    "Count",
    "Bytes/Second",
    "Kilobytes/Second",
    "Megabytes/Second",
    "Gigabytes/Second",
    "Terabytes/Second",
    "Bits/Second",
    "Kilobits/Second",
    "Megabits/Second",
    "Gigabits/Second",
    "Terabits/Second",
    "Count/Second",
    "None",
)

EMF_SCHEMA: Final[dict[str, Any]] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["_aws"],
    "properties": {
        "_aws": {
            "type": "object",
            "required": ["Timestamp", "CloudWatchMetrics"],
            "properties": {
                "Timestamp": {"type": "integer", "minimum": 0},
                "CloudWatchMetrics": {
                    "type": "array",
                    "minItems": 1,
                    "items": {
                        "type": "object",
                        "required": ["Namespace", "Dimensions", "Metrics"],
                        "additionalProperties": False,
                        "properties": {
                            "Namespace": {
                                "type": "string",
                                "minLength": 1,
                                "maxLength": 255,
                                "pattern": "^[^:]",
                            },
                            "Dimensions": {
                                "type": "array",
                                "items": {
                                    "type": "array",
                                    "maxItems": 30,
                                    "items": {"type": "string", "minLength": 1, "maxLength": 250},
                                },
                            },
                            "Metrics": {
                                "type": "array",
                                "maxItems": 100,
                                "items": {
                                    "type": "object",
                                    "required": ["Name"],
                                    "additionalProperties": False,
                                    "properties": {
                                        "Name": {"type": "string", "minLength": 1},
                                        "Unit": {"enum": list(STANDARD_UNITS)},
                                        "StorageResolution": {"enum": [1, 60]},
                                    },
                                },
                            },
                        },
                    },
                },
            },
        }
    },
}


def emf_records(output: str) -> list[dict[str, Any]]:
    """The EMF documents among ``output``'s lines (JSON objects with an ``_aws`` member)."""
    records = []
    for line in output.splitlines():
        try:
            document = json.loads(line)
        except ValueError:
            continue
        if isinstance(document, dict) and "_aws" in document:
            records.append(document)
    return records


def assert_valid_emf(record: dict[str, Any]) -> None:
    """Fail unless ``record`` is an EMF document by the specification (module docstring)."""
    jsonschema.validate(record, EMF_SCHEMA)
    for directive in record["_aws"]["CloudWatchMetrics"]:
        for dimension_set in directive["Dimensions"]:
            for name in dimension_set:
                assert isinstance(record.get(name), str), f"dimension {name} is not a string"
        for metric in directive["Metrics"]:
            value = record.get(metric["Name"])
            values = value if isinstance(value, list) else [value]
            assert 1 <= len(values) <= 100, metric["Name"]
            for item in values:
                assert isinstance(item, int | float), metric
                assert not isinstance(item, bool), metric
