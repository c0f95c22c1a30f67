"""Steps the gateway tests share: uploads through HTTP, a scripted worker
through the real WorkerService, and reading Server-Sent Events."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from forgesyte.jobs.v1 import job_pb2
from forgesyte.jobs.v1 import job_service_pb2 as jobs_pb
from forgesyte.jobs.v1 import worker_service_pb2 as worker_pb
from services.common.config import sqlite_url
from services.job_api.server import RunningJobApi, start_job_api
from tests.conftest import FAST_TIMINGS, job_api_settings
from tests.support.api import Clients, lease_of, worker_metadata

VIDEO_BYTES = b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 4096  # ~1 MB
RESULTS = {"frames": [{"frame_index": 0, "detections": []}], "summary": {"frames_with_motion": 0}}


def upload_form(data: bytes = VIDEO_BYTES, filename: str = "clip.mp4") -> aiohttp.FormData:
    form = aiohttp.FormData()
    # A file object, as for a real upload (aiohttp warns about large raw bytes).
    form.add_field("file", io.BytesIO(data), filename=filename, content_type="video/mp4")
    return form


async def submit(
    http: aiohttp.ClientSession,
    data: bytes = VIDEO_BYTES,
    *,
    plugin_id: str = "motion",
    tool: str = "detect_motion",
    filename: str = "clip.mp4",
    headers: dict[str, str] | None = None,
) -> str:
    """Upload through the gateway; returns the new job's id."""
    response = await http.post(
        "/v1/video/submit",
        params={"plugin_id": plugin_id, "tool": tool},
        data=upload_form(data, filename),
        headers=headers,
    )
    assert response.status == 200, await response.text()
    body = await response.json()
    assert set(body) == {"job_id"}
    return str(body["job_id"])


async def start(clients: Clients, job_id: str) -> worker_pb.LeaseRef:
    """Claim the (only pending) job as a scripted worker."""
    claim = await clients.claim()
    assert claim.job.job_id == job_id
    return lease_of(claim)


async def finish(clients: Clients, lease: worker_pb.LeaseRef) -> job_pb2.Job:
    return await clients.complete(lease, json.dumps(RESULTS).encode())


async def fail(clients: Clients, lease: worker_pb.LeaseRef, message: str) -> job_pb2.Job:
    response = await clients.worker.FailJob(
        worker_pb.FailJobRequest(lease=lease, error_message=message, retryable=False),
        metadata=worker_metadata(),
    )
    return response.job


async def job_count(clients: Clients) -> int:
    page = await clients.jobs.ListJobs(jobs_pb.ListJobsRequest(page_size=1000))
    return len(page.jobs)


def stored_files(tmp_path: Path) -> list[Path]:
    """Inputs and unfinished uploads in the data dir of the ``job_api`` fixture."""
    data = tmp_path / "data"
    return [*(data / "inputs").iterdir(), *(data / "tmp").iterdir()]


async def get_json(http: aiohttp.ClientSession, path: str, status: int = 200, **kwargs: Any) -> Any:
    response = await http.get(path, **kwargs)
    assert response.status == status, await response.text()
    assert response.content_type == "application/json"
    return await response.json()


async def eventually(check: Callable[[], bool], what: str, seconds: float = 10.0) -> None:
    """Wait until ``check()`` holds; fail naming ``what`` if it never does."""
    for _ in range(int(seconds / 0.05)):
        if check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"never true: {what}")


async def poll_json(
    http: aiohttp.ClientSession, path: str, accept: Callable[[Any], bool], seconds: float = 10.0
) -> Any:
    """GET ``path`` until ``accept(body)`` holds; that body. A poll may trail a
    change another client made by the status cache's delivery time."""
    for _ in range(int(seconds / 0.01)):
        body = await get_json(http, path)
        if accept(body):
            return body
        await asyncio.sleep(0.01)
    raise AssertionError(f"{path} never answered as expected; last {body}")


@dataclass
class Event:
    """One Server-Sent Event, or a comment (``kind == "comment"``)."""

    kind: str
    id: str | None = None
    data: str = ""

    def json(self) -> Any:
        return json.loads(self.data)


async def next_event(response: aiohttp.ClientResponse) -> Event | None:
    """The next event or comment of a stream; None at its end."""
    fields: dict[str, str] = {}
    data: list[str] = []
    comment = False
    async for raw in response.content:
        line = raw.decode().rstrip("\r\n")
        if not line:
            if comment and not fields and not data:
                return Event("comment")
            if fields or data:
                return Event(fields.get("event", "message"), fields.get("id"), "\n".join(data))
            continue
        if line.startswith(":"):
            comment = True
            continue
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "data":
            data.append(value)
        else:
            fields[name] = value
    return None


async def job_events(response: aiohttp.ClientResponse) -> list[dict[str, Any]]:
    """Every ``job`` event until the stream ends, as parsed JSON with its id."""
    events = []
    while (event := await next_event(response)) is not None:
        if event.kind == "job":
            events.append({"id": event.id, **event.json()})
    return events


@dataclass
class RestartableJobApi:
    """A job API that a test stops and starts again on the same port and data."""

    data_dir: Path
    port: int
    running: RunningJobApi | None

    @property
    def current(self) -> RunningJobApi:
        assert self.running is not None, "the job API is stopped"
        return self.running

    async def stop(self) -> None:
        await self.current.stop(grace_seconds=0.5)
        self.running = None

    async def restart(self) -> None:
        assert self.running is None, "the job API is still running"
        settings = job_api_settings(
            self.data_dir, sqlite_url(self.data_dir), job_api_addr=f"127.0.0.1:{self.port}"
        )
        self.running = await start_job_api(settings, timings=FAST_TIMINGS)


@asynccontextmanager
async def restartable_job_api(tmp_path: Path) -> AsyncIterator[RestartableJobApi]:
    """A job API on SQLite in ``tmp_path``, stopped at the end whichever run is up."""
    data_dir = tmp_path / "data"
    first = await start_job_api(
        job_api_settings(data_dir, sqlite_url(data_dir)), timings=FAST_TIMINGS
    )
    api = RestartableJobApi(data_dir, first.port, first)
    try:
        yield api
    finally:
        if api.running is not None:
            await api.running.stop(grace_seconds=0.5)
