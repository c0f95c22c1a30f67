"""What ``forgesyte smoke`` talks to: the job API over gRPC (here) or the gateway over REST.

Both targets answer the same five questions (plugins, submit, status,
follow, results) in the same plain terms (:class:`Snapshot`, bytes), so the
smoke test's steps and rules exist once, whichever door it comes in by.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from forgesyte.jobs.v1 import job_pb2
from services.cli.client import JobApiClient
from services.cli.follow import follow_job
from services.cli.smoke_rules import Snapshot
from services.cli.views import JobView


class SmokeTarget(Protocol):
    where: str
    """Said in the first check, e.g. "job API at 127.0.0.1:50051"."""

    async def plugins(self) -> list[job_pb2.PluginManifest]: ...

    async def submit(self, video: Path, plugin_id: str, tool: str) -> str:
        """Upload ``video``; returns the new job's id."""
        ...

    async def status(self, job_id: str) -> Snapshot: ...

    async def follow(self, job_id: str, on_snapshot: Callable[[Snapshot], None]) -> Snapshot:
        """Every change until the job ends; returns the terminal snapshot."""
        ...

    async def results(self, job_id: str) -> bytes:
        """The results document itself."""
        ...


class GrpcTarget:
    """The job API's public gRPC service, as the CLI's other commands use it."""

    def __init__(self, client: JobApiClient, note: Callable[[str], None]) -> None:
        self.where = f"job API at {client.addr}"
        self._client = client
        self._note = note

    async def plugins(self) -> list[job_pb2.PluginManifest]:
        return await self._client.plugins()

    async def submit(self, video: Path, plugin_id: str, tool: str) -> str:
        job = await self._client.submit(video, plugin_id=plugin_id, tool=tool)
        return job.job_id

    async def status(self, job_id: str) -> Snapshot:
        return Snapshot.from_view(JobView.from_proto(await self._client.status(job_id)))

    async def follow(self, job_id: str, on_snapshot: Callable[[Snapshot], None]) -> Snapshot:
        final = await follow_job(
            self._client, job_id, lambda job: on_snapshot(Snapshot.from_view(job)), self._note
        )
        return Snapshot.from_view(final)

    async def results(self, job_id: str) -> bytes:
        return b"".join([chunk async for chunk in self._client.results(job_id)])
