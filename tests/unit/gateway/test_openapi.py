"""/openapi.json is a valid OpenAPI 3.1 document that lists exactly the routes
the application serves, each error body included."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from openapi_spec_validator import validate

from services.gateway.app import create_app
from services.gateway.job_client import JobApiClient
from services.gateway.openapi import build_spec
from tests.support.gateway import gateway_options


def test_the_document_is_valid() -> None:
    validate(build_spec("1.2.3"))  # raises on any problem


def served_routes(app: web.Application) -> set[tuple[str, str]]:
    routes = set()
    for route in app.router.routes():
        info = route.resource.get_info() if route.resource else {}
        path = info.get("path") or info.get("formatter") or info.get("prefix")
        if route.method in ("GET", "POST", "DELETE", "PUT", "PATCH") and path:
            routes.add((route.method.lower(), str(path)))
    return routes


async def test_every_served_route_is_described_and_nothing_else() -> None:
    client = JobApiClient.connect(
        "127.0.0.1:1", call_timeout_seconds=1.0, health_timeout_seconds=1.0
    )
    try:
        app = create_app(gateway_options(1), client)
        served = {r for r in served_routes(app) if not r[1].startswith("/static")}
    finally:
        await client.close()
    spec = build_spec("test")
    described = {(method, path) for path, item in spec["paths"].items() for method in item}
    assert served == described


def test_every_operation_describes_its_errors_as_detail_objects() -> None:
    spec = build_spec("test")
    error_schema = spec["components"]["schemas"]["Error"]
    assert error_schema["required"] == ["detail"]
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            responses: dict[str, Any] = operation["responses"]
            if path not in ("/healthz", "/"):
                assert any(code.startswith(("4", "5")) for code in responses), (method, path)
            for code, response in responses.items():
                if code.startswith(("4", "5")):
                    assert response["$ref"].startswith("#/components/responses/E"), (path, code)


def test_job_status_documents_nullable_progress() -> None:
    spec = build_spec("test")
    progress = spec["components"]["schemas"]["JobStatus"]["properties"]["progress"]
    assert progress["type"] == ["integer", "null"]
    assert (progress["minimum"], progress["maximum"]) == (0, 100)
