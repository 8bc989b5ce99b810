"""Errors raised by Connexion and Starlette (routing, media type, Starlette's HTTPException) are
rendered by our one problem renderer: our member order and byte form, a specific ``detail``
in the spec's terms, and every caller value they echo cut short."""

from __future__ import annotations

import json
from typing import Any

import pytest
from starlette.testclient import TestClient

from currency_api.problems import MAX_ECHO, problem_body


def assert_our_problem(response: Any, status: int) -> dict[str, Any]:
    """The answer is byte for byte what currency_api.problems renders for its members."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem: dict[str, Any] = response.json()
    assert list(problem)[:4] == ["type", "title", "status", "detail"]
    extensions = {
        k: v for k, v in problem.items() if k not in ("type", "title", "status", "detail")
    }
    assert response.content == problem_body(status, problem["title"], problem["detail"], extensions)
    assert problem["detail"] != problem["title"]
    return problem


def test_an_unknown_path_is_our_404_naming_the_path(
    client: TestClient, admin: dict[str, str]
) -> None:
    problem = assert_our_problem(client.get("/nowhere", headers=admin), 404)
    assert problem["detail"] == "No resource of this API is at the path /nowhere."


def test_a_method_the_path_does_not_take_is_our_405_with_allow(
    client: TestClient, admin: dict[str, str]
) -> None:
    response = client.delete("/currencies", headers=admin)
    problem = assert_our_problem(response, 405)
    assert response.headers["allow"] == "GET, HEAD, POST"
    assert "DELETE" in problem["detail"]
    assert "/currencies" in problem["detail"]


def test_an_unknown_path_is_echoed_at_most_max_echo_characters(
    client: TestClient, admin: dict[str, str]
) -> None:
    problem = assert_our_problem(client.get("/" + "x" * 500, headers=admin), 404)
    assert "x" * MAX_ECHO not in problem["detail"]
    assert "…" in problem["detail"]


@pytest.mark.parametrize(
    ("path", "method", "accepted"),
    [
        ("/currencies", "POST", "application/json"),
        ("/currencies/EUR", "PATCH", "application/merge-patch+json"),
    ],
)
def test_a_wrong_media_type_is_our_415_naming_what_the_operation_takes(
    client: TestClient, admin: dict[str, str], path: str, method: str, accepted: str
) -> None:
    response = client.request(
        method, path, content=b"x", headers={**admin, "Content-Type": "text/plain; charset=utf-8"}
    )
    problem = assert_our_problem(response, 415)
    assert problem["detail"] == f"The media type 'text/plain' is not accepted; send {accepted}."
    assert problem["errors"] == [
        {"parameter": "Content-Type", "in": "header", "detail": f"must be {accepted}"}
    ]


def test_a_long_media_type_is_echoed_at_most_max_echo_characters(
    client: TestClient, admin: dict[str, str]
) -> None:
    media_type = "application/" + "x" * 200
    response = client.post(
        "/currencies", content=b"{}", headers={**admin, "Content-Type": media_type}
    )
    problem = assert_our_problem(response, 415)
    assert media_type not in problem["detail"]
    assert len(problem["detail"]) < 200


def test_unknown_query_parameter_names_are_cut_short(
    client: TestClient, admin: dict[str, str]
) -> None:
    name = "p" * 300
    problem = assert_our_problem(client.get(f"/currencies?{name}=1", headers=admin), 400)
    (error,) = problem["errors"]
    assert error["in"] == "query"
    assert len(error["parameter"]) == MAX_ECHO
    assert error["detail"] == "is not a parameter of this operation"


def test_several_violations_are_all_listed_with_json_names(
    client: TestClient, admin: dict[str, str]
) -> None:
    body = {"code": None, "name": True, "numericCode": "978", "minorUnit": 9, "extra": 1}
    problem = assert_our_problem(client.post("/currencies", json=body, headers=admin), 400)
    assert problem["errors"] == [
        {"pointer": "/extra", "detail": "is not a member of this object"},
        {"pointer": "/code", "detail": "must not be null"},
        {"pointer": "/name", "detail": "must be a string"},
        {"pointer": "/minorUnit", "detail": "must be at most 4"},
    ]
    assert (
        problem["detail"]
        == "The body member /extra is not a member of this object; 3 more in errors."
    )
    assert "None" not in json.dumps(problem)
    assert "True" not in json.dumps(problem)


def test_a_put_naming_another_code_points_at_code(
    client: TestClient, admin: dict[str, str]
) -> None:
    body = {"code": "USD", "name": "Euro", "numericCode": "978", "minorUnit": 2}
    problem = assert_our_problem(client.put("/currencies/EUR", json=body, headers=admin), 400)
    assert problem["errors"] == [
        {"pointer": "/code", "detail": "must be the path's code 'EUR' or left out"}
    ]
