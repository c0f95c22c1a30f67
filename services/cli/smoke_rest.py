"""The gateway as a smoke target: the REST routes and the event stream the web UI uses.

``forgesyte smoke --web URL`` checks a deployment from where a browser
stands: ``GET /v1/plugins``, ``POST /v1/video/submit`` (multipart),
``GET /v1/video/status/{id}`` (ForgeSyte's status shape), the job's
Server-Sent Events (``GET /v1/jobs/{id}/events``) to follow it, and
``GET /v1/video/results/{id}``. An HTTP error is a deviation named with its
route and the gateway's ``detail``; only an unreachable gateway (exit 3) or
a refused token (exit 6) are reported as such.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp

from forgesyte.jobs.v1 import job_pb2
from services.cli.errors import CliError, ExitCode
from services.cli.smoke_rules import SmokeDeviation, Snapshot

REQUEST_SECONDS = 60.0


class RestTarget:
    def __init__(self, session: aiohttp.ClientSession, base_url: str, token: str | None) -> None:
        self.where = f"gateway at {base_url}"
        self._session = session
        self._base = base_url.rstrip("/")
        self._headers = {"Authorization": f"Bearer {token}"} if token else {}

    async def plugins(self) -> list[job_pb2.PluginManifest]:
        data = await self._json("GET", "/v1/plugins")
        try:
            return [
                job_pb2.PluginManifest(
                    id=plugin["id"],
                    tools=[
                        job_pb2.ToolManifest(id=tool["id"], input_types=tool["input_types"])
                        for tool in plugin["tools"]
                    ],
                )
                for plugin in data["plugins"]
            ]
        except (KeyError, TypeError, ValueError) as error:
            raise SmokeDeviation(f"GET /v1/plugins: unexpected shape ({error!r})") from None

    async def submit(self, video: Path, plugin_id: str, tool: str) -> str:
        form = aiohttp.FormData()
        form.add_field("file", await asyncio.to_thread(video.read_bytes), filename=video.name)
        path = "/v1/video/submit"
        data = await self._json(
            "POST", path, data=form, params={"plugin_id": plugin_id, "tool": tool}
        )
        job_id = data.get("job_id") if isinstance(data, dict) else None
        if not isinstance(job_id, str):
            raise SmokeDeviation(f"POST {path} answered without a job_id: {data!r}")
        return job_id

    async def status(self, job_id: str) -> Snapshot:
        data = await self._json("GET", f"/v1/video/status/{job_id}")
        if not isinstance(data, dict):
            raise SmokeDeviation(f"GET /v1/video/status/{job_id} answered {data!r}")
        return Snapshot.from_json(data)

    async def follow(self, job_id: str, on_snapshot: Callable[[Snapshot], None]) -> Snapshot:
        path = f"/v1/jobs/{job_id}/events"
        async with self._request("GET", path, timeout=aiohttp.ClientTimeout()) as response:
            async for event, data in _server_sent_events(response.content):
                if event == "error":
                    raise SmokeDeviation(f"GET {path} sent an error event: {data}")
                if event != "job":
                    continue
                snapshot = Snapshot.from_json(json.loads(data))
                on_snapshot(snapshot)
                if snapshot.terminal:
                    return snapshot
        raise SmokeDeviation(f"GET {path} ended before the job did")

    async def results(self, job_id: str) -> bytes:
        path = f"/v1/video/results/{job_id}"
        envelope = await self._json("GET", path)
        if not isinstance(envelope, dict) or "results" not in envelope:
            raise SmokeDeviation(f"GET {path} answered without 'results'")
        return json.dumps(envelope["results"]).encode()

    async def _json(self, method: str, path: str, **options: Any) -> Any:
        async with self._request(method, path, **options) as response:
            body = await response.read()
        try:
            return json.loads(body)
        except ValueError:
            raise SmokeDeviation(f"{method} {path} did not answer JSON") from None

    @asynccontextmanager
    async def _request(
        self, method: str, path: str, **options: Any
    ) -> AsyncIterator[aiohttp.ClientResponse]:
        try:
            async with self._session.request(
                method, self._base + path, headers=self._headers, **options
            ) as response:
                if response.status >= 400:
                    await _raise_for(response, method, path)
                yield response
        except aiohttp.ClientConnectionError as error:
            raise CliError(
                f"cannot reach the gateway at {self._base} ({error})", ExitCode.UNAVAILABLE
            ) from None


async def _raise_for(response: aiohttp.ClientResponse, method: str, path: str) -> None:
    try:
        detail = (await response.json(content_type=None)).get("detail")
    except (ValueError, AttributeError, aiohttp.ClientError):
        detail = None
    text = f"{method} {path} answered HTTP {response.status}" + (f": {detail}" if detail else "")
    if response.status == 401:
        raise CliError(f"{text} (set FORGESYTE_API_TOKEN)", ExitCode.UNAUTHENTICATED)
    raise SmokeDeviation(text)


async def _server_sent_events(stream: aiohttp.StreamReader) -> AsyncIterator[tuple[str, str]]:
    """``(event, data)`` per event; comments (keep-alives) and ids are skipped."""
    event, data = "message", list[str]()
    async for raw in stream:
        line = raw.decode("utf-8").rstrip("\r\n")
        if not line:
            if data:
                yield event, "\n".join(data)
            event, data = "message", list[str]()
        elif line.startswith(":"):
            continue
        else:
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if name == "event":
                event = value
            elif name == "data":
                data.append(value)


@asynccontextmanager
async def rest_session() -> AsyncIterator[aiohttp.ClientSession]:
    timeout = aiohttp.ClientTimeout(total=REQUEST_SECONDS)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        yield session
