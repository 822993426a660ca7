"""The OpenAPI document (/schema/openapi.json) tells a generated client what each operation answers: its
success status and media type, and every problem response (application/problem+json, with the `type` and
`reason` values the route can carry)."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
import schemathesis
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from server.api.problems import MEDIA_TYPE, all_problems, type_uri
from server.app import create_app
from server.errors import OP_ERRORS
from server.settings import Settings
from tests.conftest import Api

METHODS = {"get", "post", "put", "patch", "delete"}
AS_DOCUMENTED = [status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture(scope="module")
async def document(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    app = create_app(Settings(database_url=f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('openapi')}/unused.sqlite3"))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
        response = await client.get("/schema/openapi.json")
    assert response.status_code == 200
    return response.json()


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(method, path, op) for path, item in document["paths"].items() for method, op in item.items() if method in METHODS]


def narrowed(response: dict[str, Any]) -> dict[str, Any]:
    """The `properties` a problem response narrows ProblemDetails to (status, type, reason)."""
    all_of = response["content"][MEDIA_TYPE]["schema"]["allOf"]
    assert all_of[0] == {"$ref": "#/components/schemas/ProblemDetails"}
    return all_of[1]["properties"]


def types_of(response: dict[str, Any]) -> set[str]:
    return set(narrowed(response)["type"]["enum"])


def test_every_error_response_is_a_problem_of_known_types(document: dict[str, Any]) -> None:
    known = {type_uri(slug) for slug in all_problems()}
    assert len(operations(document)) >= 40
    for method, path, operation in operations(document):
        for status, response in operation["responses"].items():
            if int(status) < 400:
                continue
            assert list(response["content"]) == [MEDIA_TYPE], (method, path, status)
            assert narrowed(response)["status"] == {"const": int(status)}
            if "type" in narrowed(response):
                assert types_of(response) <= known, (method, path, status)
        assert "500" in operation["responses"], (method, path)


def test_sign_in_rules_follow_from_auth_and_guards(document: dict[str, Any]) -> None:
    paths = document["paths"]
    for method, path, operation in operations(document):
        if (method, path) == ("post", "/api/auth/token"):
            continue
        assert types_of(operation["responses"]["401"]) == {"/problems/unauthorized"}, (method, path)
        assert operation["security"] == [{"bearer": []}]
    sign_in = paths["/api/auth/token"]["post"]
    assert "security" not in sign_in
    assert types_of(sign_in["responses"]["401"]) == {"/problems/bad-credentials"}
    assert "429" in sign_in["responses"] and "Retry-After" in sign_in["responses"]["429"]["headers"]
    assert types_of(sign_in["responses"]["429"]) == {"/problems/too-many-attempts"}
    assert types_of(paths["/api/users"]["get"]["responses"]["403"]) == {"/problems/forbidden"}  # admin only
    assert "403" not in paths["/api/inventory"]["get"]["responses"]  # any signed-in user


def test_ops_document_created_replayed_and_every_op_problem(document: dict[str, Any]) -> None:
    responses = document["paths"]["/api/ops"]["post"]["responses"]
    assert responses["201"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/OpOut"}
    assert responses["200"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/OpOut"}
    for error in OP_ERRORS:
        response = responses[str(error.status_code)]
        assert type_uri(error.slug) in types_of(response)
        assert error.reason in narrowed(response)["reason"]["enum"]
    assert types_of(responses["409"]) == {type_uri(e.slug) for e in OP_ERRORS if e.status_code == 409}
    assert "413" in responses and "400" in responses


def test_files_and_raw_bodies_are_documented_as_sent(document: dict[str, Any]) -> None:
    paths = document["paths"]
    for path, method in (("/api/labels/{name}", "get"), ("/api/labels/sheet", "post")):
        assert set(paths[path][method]["responses"]["200"]["content"]) == {"image/svg+xml", "application/pdf", "application/zpl"}
    for path in ("/api/inventory/export.csv", "/api/counts/{count_id}/sheet.csv"):
        assert list(paths[path]["get"]["responses"]["200"]["content"]) == ["text/csv; charset=utf-8"]
    push = paths["/api/sync/push"]["post"]
    assert push["requestBody"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/PushIn"}
    assert set(document["components"]["schemas"]["PushIn"]["required"]) == {"protocol", "device_id", "ops"}
    assert types_of(push["responses"]["409"]) == {"/problems/protocol-not-supported"}
    decode = paths["/api/decode"]["post"]
    assert set(decode["requestBody"]["content"]) == {"image/jpeg", "image/png", "image/webp", "multipart/form-data"}
    assert types_of(decode["responses"]["415"]) == {"/problems/unsupported-image"}
    assert document["components"]["schemas"]["SupplierIn"]["additionalProperties"] is False  # unknown fields: 422


def conforms(document: dict[str, Any], method: str, path: str, response: httpx.Response, **case: Any) -> None:
    """One real answer against the document: its status code, content type and body (raises FailureGroup)."""
    operation = schemathesis.openapi.from_dict(document)[path][method]
    operation.Case(**case).validate_response(response, checks=AS_DOCUMENTED)


async def test_real_answers_match_their_documented_responses(api: Api, document: dict[str, Any]) -> None:
    """Successes a random run rarely reaches: an op applied (201) and replayed (200), labels in each format,
    the CSV export, signing out (204)."""
    await api.part("PN-S", "serial")
    await api.location("A")
    body = {"op_id": str(uuid.uuid4()), "type": "receive",
            "args": {"part": "PN-S", "tracking": "serial", "location": "A", "quantity": 1, "serial": "S-1"}}
    for status in (201, 200):
        response = await api.post("/api/ops", body)
        assert response.status_code == status, response.text
        conforms(document, "POST", "/api/ops", response, body=body, media_type="application/json")
    for fmt in ("svg", "pdf", "zpl"):
        response = await api.get(f"/api/labels/part.{fmt}", params={"part": "PN-S"})
        assert response.status_code == 200, response.text
        conforms(document, "GET", "/api/labels/{name}", response, path_parameters={"name": f"part.{fmt}"},
                 query={"part": "PN-S"})
    export = await api.get("/api/inventory/export.csv")
    assert export.status_code == 200 and export.headers["content-type"].startswith("text/csv")
    conforms(document, "GET", "/api/inventory/export.csv", export)
    signed_out = await api.client.delete("/api/auth/token", headers=api.headers("operator"))
    assert signed_out.status_code == 204
    conforms(document, "DELETE", "/api/auth/token", signed_out)


async def test_a_real_problem_matches_its_documented_response(api: Api, document: dict[str, Any]) -> None:
    """The check the contract run uses passes a real 409 as documented, and fails once it is not."""
    await api.part("PN-S", "serial")
    await api.location("A")
    args = {"part": "PN-S", "tracking": "serial", "location": "A", "quantity": 1, "serial": "S-1"}
    await api.ok("receive", **args)
    body = {"op_id": str(uuid.uuid4()), "type": "receive", "args": args}
    duplicate = await api.post("/api/ops", body)
    assert duplicate.status_code == 409 and duplicate.json()["type"] == "/problems/duplicate-serial"

    def check(doc: dict[str, Any]) -> None:
        conforms(doc, "POST", "/api/ops", duplicate, body=body, media_type="application/json")

    check(document)
    without_409 = {**document, "paths": {**document["paths"], "/api/ops": {"post": {
        **document["paths"]["/api/ops"]["post"],
        "responses": {k: v for k, v in document["paths"]["/api/ops"]["post"]["responses"].items() if k != "409"},
    }}}}
    with pytest.raises(FailureGroup, match="Undocumented status code"):
        check(without_409)
