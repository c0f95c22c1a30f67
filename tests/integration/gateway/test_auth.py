"""FORGESYTE_API_TOKEN at the gateway: every route but the probes and the UI's
static files needs the bearer token, and the token travels on to the job API
(which, configured with the same token, checks it again)."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from services.job_api.server import RunningJobApi
from tests.integration.gateway.helpers import get_json, submit, upload_form
from tests.support.api import Clients

TOKEN = "gateway-test-token"
BEARER = {"Authorization": f"Bearer {TOKEN}"}
SOME_JOB = "00000000-0000-4000-8000-000000000000"
PROTECTED = [
    ("GET", "/v1/jobs"),
    ("GET", f"/v1/jobs/{SOME_JOB}"),
    ("DELETE", f"/v1/jobs/{SOME_JOB}"),
    ("GET", f"/v1/jobs/{SOME_JOB}/events"),
    ("GET", f"/v1/video/status/{SOME_JOB}"),
    ("GET", f"/v1/video/results/{SOME_JOB}"),
    ("POST", "/v1/video/submit?plugin_id=motion&tool=detect_motion"),
    ("GET", "/v1/plugins"),
    ("GET", "/v1/plugins/motion/manifest"),
    ("GET", "/openapi.json"),
]


@pytest.fixture
def job_api_overrides() -> dict[str, object]:
    return {"api_token": TOKEN}


@pytest.fixture
def gateway_overrides() -> dict[str, Any]:
    return {"api_token": TOKEN}


@pytest.mark.parametrize(("method", "path"), PROTECTED)
@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {TOKEN}"}],
    ids=["no-token", "wrong-token", "wrong-scheme"],
)
async def test_every_rest_route_needs_the_token(
    http: aiohttp.ClientSession,
    job_api: RunningJobApi,
    method: str,
    path: str,
    headers: dict[str, str],
) -> None:
    async with http.request(method, path, headers=headers, data=upload_form()) as response:
        assert response.status == 401
        assert response.headers["WWW-Authenticate"] == "Bearer"
        assert "Bearer" in (await response.json())["detail"]


@pytest.mark.parametrize(
    "path", ["/healthz", "/readyz", "/", "/static/app.js", "/static/style.css"]
)
async def test_probes_and_the_ui_need_no_token(
    http: aiohttp.ClientSession, job_api: RunningJobApi, path: str
) -> None:
    async with http.get(path) as response:
        assert response.status == 200


async def test_with_the_token_everything_works_through_the_job_api(
    http: aiohttp.ClientSession, advertised: Clients
) -> None:
    job_id = await submit(http, headers=BEARER)
    status = await get_json(http, f"/v1/video/status/{job_id}", headers=BEARER)
    assert status["status"] == "pending"
    listed = await get_json(http, "/v1/jobs", headers=BEARER)
    assert [job["job_id"] for job in listed["jobs"]] == [job_id]


@pytest.mark.parametrize("gateway_overrides", [{}])
async def test_the_callers_token_is_what_the_job_api_checks(
    http: aiohttp.ClientSession, advertised: Clients
) -> None:
    """A gateway without a token of its own still passes the caller's on, so
    the job API's answer (UNAUTHENTICATED → 401) is what the caller gets."""
    refused = await get_json(http, "/v1/plugins", status=401)
    assert refused["detail"]
    accepted = await get_json(http, "/v1/plugins", headers=BEARER)
    assert accepted["count"] == 1
