from typing import Any

import httpx

from tradewire.domain.signals import FIELD_ACCEPTED


async def openapi(anonymous: httpx.AsyncClient) -> dict[str, Any]:
    response = await anonymous.get("/openapi.json")
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


async def test_openapi_lists_every_route(anonymous: httpx.AsyncClient) -> None:
    paths = (await openapi(anonymous))["paths"]

    assert set(paths) == {
        "/api/v1/signals",
        "/api/v1/signals/batch",
        "/api/v1/orders",
        "/api/v1/orders/{client_order_id}",
        "/api/v1/positions",
        "/api/v1/fills",
        "/api/v1/accounts",
        "/api/v1/reconciliations",
        "/api/v1/venues",
        "/api/v1/risk/limits",
        "/api/v1/kill-switch",
        "/api/v1/kill-switch/resume",
        "/healthz",
    }
    assert set(paths["/api/v1/orders/{client_order_id}"]) == {"get", "delete", "patch"}
    assert set(paths["/api/v1/risk/limits"]) == {"get", "put"}
    assert set(paths["/api/v1/kill-switch"]) == {"get", "post"}
    assert set(paths["/api/v1/reconciliations"]) == {"get", "post"}


async def test_openapi_documents_the_signal_body_with_every_field(anonymous: httpx.AsyncClient) -> None:
    document = await openapi(anonymous)
    operation = document["paths"]["/api/v1/signals"]["post"]

    content = operation["requestBody"]["content"]
    assert content["application/json"]["schema"] == {"$ref": "#/components/schemas/Signal"}
    assert content["text/plain"]["schema"] == {"$ref": "#/components/schemas/Signal"}
    signal = document["components"]["schemas"]["Signal"]
    assert set(signal["properties"]) == set(FIELD_ACCEPTED)
    assert signal["required"] == ["strategy", "instrument"]
    assert signal["additionalProperties"] is False
    assert set(operation["responses"]) == {"200", "202", "401", "403", "413", "422"}


async def test_openapi_references_only_schemas_it_defines(anonymous: httpx.AsyncClient) -> None:
    document = await openapi(anonymous)
    defined = set(document["components"]["schemas"])

    def references(node: object) -> set[str]:
        if isinstance(node, dict):
            found = {node["$ref"]} if isinstance(node.get("$ref"), str) else set()
            return found.union(*(references(value) for value in node.values()))
        if isinstance(node, list):
            return set().union(*(references(item) for item in node))
        return set()

    names = {ref.removeprefix("#/components/schemas/") for ref in references(document)}
    assert names <= defined
    assert {"OrderView", "PositionView", "FillView", "AccountView", "HealthView", "ErrorBody"} <= names


async def test_openapi_declares_the_bearer_scheme_on_api_routes_only(anonymous: httpx.AsyncClient) -> None:
    document = await openapi(anonymous)

    assert document["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    assert document["paths"]["/api/v1/orders"]["get"]["security"] == [{"HTTPBearer": []}]
    assert "security" not in document["paths"]["/healthz"]["get"]


async def test_decimal_fields_are_documented_as_strings(anonymous: httpx.AsyncClient) -> None:
    order = (await openapi(anonymous))["components"]["schemas"]["OrderView"]

    assert order["properties"]["quantity"] == {"type": "string", "format": "decimal"}


async def test_request_bodies_are_documented_by_the_structs_that_decode_them(
    anonymous: httpx.AsyncClient,
) -> None:
    document = await openapi(anonymous)
    paths = document["paths"]

    for path, method, name in (
        ("/api/v1/risk/limits", "put", "LimitsChange"),
        ("/api/v1/kill-switch", "post", "KillSwitchRequest"),
        ("/api/v1/kill-switch/resume", "post", "ResumeRequest"),
        ("/api/v1/orders/{client_order_id}", "patch", "AmendRequest"),
    ):
        body = paths[path][method]["requestBody"]["content"]["application/json"]["schema"]
        assert body == {"$ref": f"#/components/schemas/{name}"}, path
        assert document["components"]["schemas"][name]["additionalProperties"] is False
    operator = [p for p in paths["/api/v1/kill-switch"]["post"]["parameters"] if p["name"] == "X-Operator"]
    assert operator[0]["in"] == "header"
    assert set(paths["/api/v1/orders/{client_order_id}"]["patch"]["responses"]) >= {"202", "403", "409"}
