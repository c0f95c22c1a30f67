"""FORGESYTE_CORS_ORIGINS: pages from the configured origins may call the REST
API (preflights answered, headers on every answer, errors and event streams
included); other origins, and every origin when nothing is configured, get
no CORS headers. The browser's side of it is in tests/browser/test_cors.py."""

from __future__ import annotations

import aiohttp
import pytest

from services.job_api.server import RunningJobApi
from tests.integration.gateway.helpers import submit
from tests.support.api import Clients

UI = "http://ui.example.com:5173"
TOKEN = "cors-test-token"
SOME_JOB = "00000000-0000-4000-8000-000000000000"
ALLOW_ORIGIN = "Access-Control-Allow-Origin"

with_cors = pytest.mark.parametrize("gateway_overrides", [{"cors_origins": (UI,)}])


def preflight(method: str, headers: str = "authorization") -> dict[str, str]:
    return {
        "Origin": UI,
        "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": headers,
    }


@with_cors
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", f"/v1/video/status/{SOME_JOB}"),
        ("POST", "/v1/video/submit"),
        ("DELETE", f"/v1/jobs/{SOME_JOB}"),
        ("GET", f"/v1/jobs/{SOME_JOB}/events"),
    ],
)
async def test_a_preflight_from_an_allowed_origin_is_answered(
    http: aiohttp.ClientSession, job_api: RunningJobApi, method: str, path: str
) -> None:
    async with http.options(path, headers=preflight(method)) as response:
        assert response.status == 200
        assert response.headers[ALLOW_ORIGIN] == UI
        assert method in response.headers["Access-Control-Allow-Methods"]
        assert response.headers["Access-Control-Allow-Headers"].lower() == "authorization"
        assert response.headers["Access-Control-Max-Age"] == "600"


@with_cors
async def test_answers_errors_and_event_streams_carry_the_origin(
    http: aiohttp.ClientSession, advertised: Clients
) -> None:
    origin = {"Origin": UI}
    async with http.get("/v1/plugins", headers=origin) as response:
        assert response.status == 200
        assert response.headers[ALLOW_ORIGIN] == UI
        assert "Retry-After" in response.headers["Access-Control-Expose-Headers"]
    async with http.get(f"/v1/video/status/{SOME_JOB}", headers=origin) as response:
        assert response.status == 404
        assert response.headers[ALLOW_ORIGIN] == UI
        assert await response.json() == {"detail": "Job not found"}
    job_id = await submit(http, headers=origin)
    async with http.get(f"/v1/jobs/{job_id}/events", headers=origin) as stream:
        assert stream.content_type == "text/event-stream"
        assert stream.headers[ALLOW_ORIGIN] == UI


@with_cors
async def test_other_origins_and_the_ui_page_get_no_cors_headers(
    http: aiohttp.ClientSession, job_api: RunningJobApi
) -> None:
    stranger = {"Origin": "https://elsewhere.example"}
    async with http.get("/v1/plugins", headers=stranger) as response:
        assert response.status == 200
        assert ALLOW_ORIGIN not in response.headers
    refused = {**preflight("GET"), "Origin": "https://elsewhere.example"}
    async with http.options("/v1/plugins", headers=refused) as response:
        assert response.status == 403
        assert ALLOW_ORIGIN not in response.headers
    async with http.get("/", headers={"Origin": UI}) as response:
        assert response.status == 200
        assert ALLOW_ORIGIN not in response.headers


async def test_without_configured_origins_there_are_no_cors_headers(
    http: aiohttp.ClientSession, job_api: RunningJobApi
) -> None:
    async with http.get("/v1/plugins", headers={"Origin": UI}) as response:
        assert response.status == 200
        assert ALLOW_ORIGIN not in response.headers
    async with http.options("/v1/plugins", headers=preflight("GET")) as response:
        assert response.status == 405
        assert ALLOW_ORIGIN not in response.headers


@pytest.mark.parametrize("job_api_overrides", [{"api_token": TOKEN}])
@pytest.mark.parametrize("gateway_overrides", [{"cors_origins": ("*",), "api_token": TOKEN}])
async def test_any_origin_with_a_token_the_preflight_needs_none_but_the_call_does(
    http: aiohttp.ClientSession, job_api: RunningJobApi
) -> None:
    async with http.options("/v1/plugins", headers=preflight("GET")) as response:
        assert response.status == 200
        assert response.headers[ALLOW_ORIGIN] == UI
    async with http.get("/v1/plugins", headers={"Origin": UI}) as response:
        # The page can read why it was refused.
        assert response.status == 401
        assert response.headers[ALLOW_ORIGIN] == UI
        assert "WWW-Authenticate" in response.headers["Access-Control-Expose-Headers"]
    bearer = {"Origin": UI, "Authorization": f"Bearer {TOKEN}"}
    async with http.get("/v1/plugins", headers=bearer) as response:
        assert response.status == 200
        # Each origin gets its own answer, which shared caches must respect.
        assert response.headers[ALLOW_ORIGIN] == UI
        assert response.headers["Vary"] == "Origin"
