"""Every REST route and its errors, against a real job API on SQLite.

Includes ForgeSyte's progress cases for ``/v1/video/status``: progress 75
returns 75, no progress data stays null (never 0), completed returns 100.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from forgesyte.jobs.v1 import job_pb2
from services.gateway.app import RunningGateway
from services.job_api.server import RunningJobApi
from tests.integration.gateway.helpers import (
    RESULTS,
    fail,
    finish,
    get_json,
    job_count,
    poll_json,
    start,
    stored_files,
    submit,
    upload_form,
)
from tests.support.api import Clients

UNKNOWN_JOB = "00000000-0000-4000-8000-000000000000"
STATUS_FIELDS = {"job_id", "status", "progress", "created_at", "updated_at"}


# -- POST /v1/video/submit ---------------------------------------------------


async def test_submit_streams_the_file_into_a_new_pending_job(
    http: aiohttp.ClientSession, advertised: Clients
) -> None:
    data = bytes(range(256)) * 12_000  # ~3 MB: several chunks of the upload stream
    job_id = await submit(http, data, filename="holiday.mp4")

    job = await advertised.status(job_id)
    assert job.status == job_pb2.JOB_STATUS_PENDING
    assert job.input_size_bytes == len(data)
    assert (job.plugin_id, job.tool, job.original_filename) == (
        "motion",
        "detect_motion",
        "holiday.mp4",
    )


@pytest.mark.parametrize(
    ("params", "status", "detail"),
    [
        ({"tool": "detect_motion"}, 400, "plugin_id"),
        ({"plugin_id": "motion"}, 400, "tool"),
        ({"plugin_id": "nope", "tool": "detect_motion"}, 400, "nope"),
        ({"plugin_id": "motion", "tool": "nope"}, 400, "nope"),
        ({"plugin_id": "motion", "tool": "describe_image"}, 400, "video"),
    ],
    ids=["no-plugin", "no-tool", "unknown-plugin", "unknown-tool", "image-only-tool"],
)
async def test_submit_refuses_bad_parameters_and_stores_nothing(
    http: aiohttp.ClientSession,
    advertised: Clients,
    params: dict[str, str],
    status: int,
    detail: str,
) -> None:
    response = await http.post("/v1/video/submit", params=params, data=upload_form())
    assert response.status == status
    body = await response.json()
    assert detail in body["detail"]
    assert await job_count(advertised) == 0


async def test_submit_refuses_a_repeated_tool(
    http: aiohttp.ClientSession, advertised: Clients
) -> None:
    response = await http.post(
        "/v1/video/submit?plugin_id=motion&tool=detect_motion&tool=other", data=upload_form()
    )
    assert response.status == 400
    assert "one tool" in (await response.json())["detail"]


def _form_without_file() -> aiohttp.FormData:
    form = aiohttp.FormData(default_to_multipart=True)
    form.add_field("comment", "no video here")
    return form


@pytest.mark.parametrize(
    ("make_body", "status", "detail"),
    [
        (lambda: upload_form(b""), 400, "empty"),
        (_form_without_file, 400, "'file'"),
        (lambda: json.dumps({"file": "x"}), 415, "multipart"),
    ],
    ids=["empty-file", "no-file-field", "not-multipart"],
)
async def test_submit_refuses_a_body_without_a_usable_file(
    http: aiohttp.ClientSession,
    advertised: Clients,
    make_body: Any,
    status: int,
    detail: str,
) -> None:
    response = await http.post(
        "/v1/video/submit",
        params={"plugin_id": "motion", "tool": "detect_motion"},
        data=make_body(),
    )
    assert response.status == status
    assert detail in (await response.json())["detail"]
    assert await job_count(advertised) == 0


@pytest.mark.parametrize("gateway_overrides", [{"max_upload_bytes": 1024 * 1024}])
async def test_a_declared_oversize_upload_is_413_before_any_byte_is_read(
    gateway: RunningGateway, advertised: Clients, tmp_path: Path
) -> None:
    """Only the headers are sent: the answer must not wait for the body."""
    reader, writer = await asyncio.open_connection("127.0.0.1", gateway.port)
    writer.write(
        b"POST /v1/video/submit?plugin_id=motion&tool=detect_motion HTTP/1.1\r\n"
        b"Host: gateway\r\nContent-Type: multipart/form-data; boundary=x\r\n"
        b"Content-Length: 10737418240\r\n\r\n"
    )
    await writer.drain()
    status_line = await asyncio.wait_for(reader.readline(), timeout=5)
    writer.close()
    assert status_line.startswith(b"HTTP/1.1 413")
    assert await job_count(advertised) == 0
    assert stored_files(tmp_path) == []


@pytest.mark.parametrize("gateway_overrides", [{"max_upload_bytes": 1024 * 1024}])
async def test_an_oversize_upload_without_length_is_413_once_past_the_limit(
    http: aiohttp.ClientSession, advertised: Clients, tmp_path: Path
) -> None:
    """Chunked transfer: no Content-Length, so the bytes are counted as they pass."""

    async def chunks() -> Any:
        yield b'--b\r\nContent-Disposition: form-data; name="file"; filename="big.mp4"\r\n\r\n'
        for _ in range(40):
            yield b"\x01" * 64 * 1024  # 2.5 MiB in all
        yield b"\r\n--b--\r\n"

    response = await http.post(
        "/v1/video/submit",
        params={"plugin_id": "motion", "tool": "detect_motion"},
        data=chunks(),
        headers={"Content-Type": "multipart/form-data; boundary=b"},
    )
    assert response.status == 413
    assert "detail" in await response.json()
    assert await job_count(advertised) == 0
    assert stored_files(tmp_path) == []


# -- GET /v1/video/status/{job_id} ----------------------------------------------


async def test_status_of_a_pending_job_has_null_progress(
    http: aiohttp.ClientSession, advertised: Clients
) -> None:
    job_id = await submit(http)
    body = await get_json(http, f"/v1/video/status/{job_id}")
    assert set(body) == STATUS_FIELDS
    assert body["job_id"] == job_id
    assert body["status"] == "pending"
    assert body["progress"] is None
    assert body["created_at"].endswith("Z")


async def test_forgesyte_case_null_progress_stays_null_while_running(
    http: aiohttp.ClientSession, advertised: Clients
) -> None:
    job_id = await submit(http)
    await start(advertised, job_id)
    body = await get_json(http, f"/v1/video/status/{job_id}")
    assert body["status"] == "running"
    assert body["progress"] is None


async def test_forgesyte_case_progress_75_returns_75(
    http: aiohttp.ClientSession, advertised: Clients
) -> None:
    job_id = await submit(http)
    lease = await start(advertised, job_id)
    await advertised.report(lease, 75, current_frame=75, total_frames=100)
    body = await get_json(http, f"/v1/video/status/{job_id}")
    assert (body["status"], body["progress"]) == ("running", 75)


async def test_forgesyte_case_completed_returns_100(
    http: aiohttp.ClientSession, advertised: Clients
) -> None:
    job_id = await submit(http)
    lease = await start(advertised, job_id)
    await advertised.report(lease, 95)
    await finish(advertised, lease)
    body = await get_json(http, f"/v1/video/status/{job_id}")
    assert (body["status"], body["progress"]) == ("completed", 100)


async def test_status_of_a_failed_job(http: aiohttp.ClientSession, advertised: Clients) -> None:
    job_id = await submit(http)
    await fail(advertised, await start(advertised, job_id), "the video could not be decoded")
    body = await get_json(http, f"/v1/video/status/{job_id}")
    assert body["status"] == "failed"


@pytest.mark.parametrize(
    "path",
    [
        "/v1/video/status/{id}",
        "/v1/video/results/{id}",
        "/v1/jobs/{id}",
        "/v1/jobs/{id}/events",
    ],
)
async def test_unknown_job_is_404_and_malformed_id_is_400(
    http: aiohttp.ClientSession, job_api: RunningJobApi, path: str
) -> None:
    unknown = await get_json(http, path.format(id=UNKNOWN_JOB), status=404)
    assert unknown == {"detail": "Job not found"}
    malformed = await get_json(http, path.format(id="not-a-uuid"), status=400)
    assert "not a valid UUID" in malformed["detail"]


async def test_cancelling_an_unknown_or_malformed_job(
    http: aiohttp.ClientSession, job_api: RunningJobApi
) -> None:
    response = await http.delete(f"/v1/jobs/{UNKNOWN_JOB}")
    assert (response.status, await response.json()) == (404, {"detail": "Job not found"})
    response = await http.delete("/v1/jobs/12345")
    assert response.status == 400


# -- GET /v1/video/results/{job_id} --------------------------------------------


async def test_results_of_a_completed_job_in_forgesyte_envelope(
    http: aiohttp.ClientSession, advertised: Clients
) -> None:
    job_id = await submit(http)
    await finish(advertised, await start(advertised, job_id))
    response = await http.get(f"/v1/video/results/{job_id}")
    assert response.status == 200
    assert response.content_length == len(await response.read())
    body = await response.json()
    assert set(body) == {"job_id", "results", "created_at", "updated_at"}
    assert body["job_id"] == job_id
    assert body["results"] == RESULTS


async def test_results_of_an_unfinished_job_are_400(
    http: aiohttp.ClientSession, advertised: Clients
) -> None:
    job_id = await submit(http)
    body = await get_json(http, f"/v1/video/results/{job_id}", status=400)
    assert "pending" in body["detail"]


# -- GET /v1/jobs/{job_id} -------------------------------------------------------


async def test_job_detail_while_running_has_frames_and_an_eta(
    http: aiohttp.ClientSession, advertised: Clients
) -> None:
    job_id = await submit(http, filename="long.mp4")
    lease = await start(advertised, job_id)
    await asyncio.sleep(0.2)  # some elapsed time to estimate from
    await advertised.report(lease, 40, current_frame=40, total_frames=100)
    body = await get_json(http, f"/v1/jobs/{job_id}")
    assert body["status"] == "running"
    assert body["progress"] == 40
    assert (body["current_frame"], body["total_frames"]) == (40, 100)
    assert (body["tool"], body["job_type"], body["attempt"]) == ("detect_motion", "video", 1)
    assert body["original_filename"] == "long.mp4"
    assert body["started_at"] is not None
    assert body["finished_at"] is None
    assert body["eta_seconds"] > 0
    assert (body["results"], body["results_url"]) == (None, None)


async def test_job_detail_without_progress_has_no_eta(
    http: aiohttp.ClientSession, advertised: Clients
) -> None:
    job_id = await submit(http)
    body = await get_json(http, f"/v1/jobs/{job_id}")
    assert body["status"] == "pending"
    assert body["eta_seconds"] is None
    await start(advertised, job_id)
    body = await poll_json(http, f"/v1/jobs/{job_id}", lambda job: job["status"] != "pending")
    assert (body["status"], body["progress"], body["eta_seconds"]) == ("running", None, None)


async def test_job_detail_of_a_completed_job_embeds_its_results(
    http: aiohttp.ClientSession, advertised: Clients
) -> None:
    job_id = await submit(http)
    await finish(advertised, await start(advertised, job_id))
    body = await get_json(http, f"/v1/jobs/{job_id}")
    assert (body["status"], body["progress"]) == ("completed", 100)
    assert body["results"] == RESULTS
    assert body["results_url"] == f"/v1/video/results/{job_id}"
    assert body["finished_at"] is not None
    assert body["eta_seconds"] is None


async def test_job_detail_of_a_failed_job_has_its_error(
    http: aiohttp.ClientSession, advertised: Clients
) -> None:
    job_id = await submit(http)
    await fail(advertised, await start(advertised, job_id), "codec not supported")
    body = await get_json(http, f"/v1/jobs/{job_id}")
    assert body["status"] == "failed"
    assert body["error_message"] == "codec not supported"
    assert body["results"] is None


# -- GET /v1/jobs ------------------------------------------------------------------


async def test_list_is_newest_first_and_paginated(
    http: aiohttp.ClientSession, advertised: Clients
) -> None:
    ids = [await submit(http, filename=f"{n}.mp4") for n in range(3)]
    first = await get_json(http, "/v1/jobs", params={"page_size": "2"})
    assert [job["job_id"] for job in first["jobs"]] == [ids[2], ids[1]]
    assert first["count"] == 2
    assert first["next_page_token"]
    second = await get_json(
        http, "/v1/jobs", params={"page_size": "2", "page_token": first["next_page_token"]}
    )
    assert [job["job_id"] for job in second["jobs"]] == [ids[0]]
    assert second["next_page_token"] is None
    everything = await get_json(http, "/v1/jobs")
    assert [job["job_id"] for job in everything["jobs"]] == ids[::-1]
    assert all(job["status"] == "pending" for job in everything["jobs"])


async def test_list_filters_by_status(http: aiohttp.ClientSession, advertised: Clients) -> None:
    done = await submit(http)
    await finish(advertised, await start(advertised, done))
    waiting = await submit(http)
    completed = await get_json(http, "/v1/jobs", params={"status": "completed"})
    pending = await get_json(http, "/v1/jobs", params={"status": "pending"})
    assert [job["job_id"] for job in completed["jobs"]] == [done]
    assert [job["job_id"] for job in pending["jobs"]] == [waiting]


async def test_list_accepts_forgesyte_limit_and_clamps_huge_sizes(
    http: aiohttp.ClientSession, advertised: Clients
) -> None:
    for _ in range(2):
        await submit(http)
    assert (await get_json(http, "/v1/jobs", params={"limit": "1"}))["count"] == 1
    assert (await get_json(http, "/v1/jobs", params={"page_size": str(10**12)}))["count"] == 2


@pytest.mark.parametrize(
    "params",
    [
        {"page_size": "-1"},
        {"page_size": "ten"},
        {"page_token": "garbage"},
        {"page_token": "x" * 5000},
        {"status": "finished"},
    ],
    ids=["negative-size", "garbage-size", "garbage-token", "huge-token", "unknown-status"],
)
async def test_list_refuses_bad_parameters(
    http: aiohttp.ClientSession, job_api: RunningJobApi, params: dict[str, str]
) -> None:
    body = await get_json(http, "/v1/jobs", status=400, params=params)
    assert body["detail"]


# -- DELETE /v1/jobs/{job_id} -------------------------------------------------------


async def test_cancelling_a_pending_job_cancels_it_at_once(
    http: aiohttp.ClientSession, advertised: Clients
) -> None:
    job_id = await submit(http)
    response = await http.delete(f"/v1/jobs/{job_id}")
    assert response.status == 200
    body = await response.json()
    assert (body["job_id"], body["status"]) == (job_id, "cancelled")
    again = await http.delete(f"/v1/jobs/{job_id}")
    assert (again.status, (await again.json())["status"]) == (200, "cancelled")


async def test_cancelling_a_running_job_asks_its_worker_to_stop(
    http: aiohttp.ClientSession, advertised: Clients
) -> None:
    job_id = await submit(http)
    lease = await start(advertised, job_id)
    body = await (await http.delete(f"/v1/jobs/{job_id}")).json()
    assert (body["status"], body["cancel_requested"]) == ("running", True)
    ack = await advertised.report(lease, 10)
    assert ack.cancel_requested


async def test_cancelling_a_completed_job_is_400(
    http: aiohttp.ClientSession, advertised: Clients
) -> None:
    job_id = await submit(http)
    await finish(advertised, await start(advertised, job_id))
    response = await http.delete(f"/v1/jobs/{job_id}")
    assert response.status == 400
    assert "completed" in (await response.json())["detail"]


# -- plugins, probes, documents ---------------------------------------------------------


async def test_plugins_list_tools_and_input_types(
    http: aiohttp.ClientSession, advertised: Clients
) -> None:
    body = await get_json(http, "/v1/plugins")
    assert body["count"] == 1
    (plugin,) = body["plugins"]
    assert (plugin["id"], plugin["name"], plugin["version"]) == ("motion", "Motion", "1.0")
    tools = {tool["id"]: tool["input_types"] for tool in plugin["tools"]}
    assert tools == {"detect_motion": ["video"], "describe_image": ["image"]}


async def test_plugin_manifest_and_unknown_plugin(
    http: aiohttp.ClientSession, advertised: Clients
) -> None:
    manifest = await get_json(http, "/v1/plugins/motion/manifest")
    assert manifest["id"] == "motion"
    assert [tool["id"] for tool in manifest["tools"]] == ["detect_motion", "describe_image"]
    missing = await get_json(http, "/v1/plugins/nope/manifest", status=404)
    assert missing == {"detail": "Plugin 'nope' not found"}


async def test_plugins_are_empty_before_any_worker_advertised(
    http: aiohttp.ClientSession, job_api: RunningJobApi
) -> None:
    assert await get_json(http, "/v1/plugins") == {"plugins": [], "count": 0}


async def test_health_and_readiness(http: aiohttp.ClientSession, job_api: RunningJobApi) -> None:
    assert await get_json(http, "/healthz") == {"status": "ok"}
    assert await get_json(http, "/readyz") == {"status": "ready"}


async def test_openapi_document_is_served(
    http: aiohttp.ClientSession, job_api: RunningJobApi
) -> None:
    spec = await get_json(http, "/openapi.json")
    assert spec["openapi"].startswith("3.1")
    assert "/v1/video/status/{job_id}" in spec["paths"]


async def test_the_web_ui_is_served(http: aiohttp.ClientSession, job_api: RunningJobApi) -> None:
    page = await http.get("/")
    assert page.status == 200
    assert page.content_type == "text/html"
    assert 'src="/static/app.js"' in await page.text()
    script = await http.get("/static/app.js")
    assert script.status == 200
    assert script.content_type == "application/javascript"


async def test_unknown_routes_and_methods_answer_json(
    http: aiohttp.ClientSession, job_api: RunningJobApi
) -> None:
    missing = await get_json(http, "/v2/nothing", status=404)
    assert missing == {"detail": "Not found"}
    response = await http.put(f"/v1/jobs/{uuid.uuid4()}")
    assert response.status == 405
    assert "DELETE" in response.headers["Allow"]
    assert (await response.json())["detail"] == "Method not allowed"
