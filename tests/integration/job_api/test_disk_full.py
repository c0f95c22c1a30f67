"""A full disk while storing an upload: a clear error and nothing half-written.

The data dir is a real 1 MiB tmpfs (mounting needs root, which the test
machines and CI have); the database lives elsewhere so it can still commit.
"""

from __future__ import annotations

import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import grpc
import pytest

from forgesyte.jobs.v1 import job_service_pb2 as jobs_pb
from services.job_api.server import RunningJobApi, start_job_api
from tests.conftest import FAST_TIMINGS, job_api_settings
from tests.support.api import Clients, connect


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mount_point = tmp_path / "small-disk"
    mount_point.mkdir()
    subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount_point)],
        check=True,
        capture_output=True,
    )
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", str(mount_point)], check=True, capture_output=True)


@pytest.fixture
async def api_on_small_disk(
    small_disk: Path, sqlite_database_url: str
) -> AsyncIterator[RunningJobApi]:
    settings = job_api_settings(small_disk, sqlite_database_url)
    api = await start_job_api(settings, timings=FAST_TIMINGS)
    yield api
    await api.stop(grace_seconds=1.0)


async def test_a_full_disk_fails_the_upload_cleanly_and_then_recovers(
    api_on_small_disk: RunningJobApi, small_disk: Path
) -> None:
    async with connect(api_on_small_disk.port) as clients:
        await clients.advertise()
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await clients.submit(b"v" * (2 * 1024 * 1024))
        assert raised.value.code() == grpc.StatusCode.UNAVAILABLE
        assert "No space left on device" in (raised.value.details() or "")
        assert files_under(small_disk) == []
        assert await job_count(clients) == 0

        accepted = await clients.submit(b"v" * 100_000)  # the space was given back
        assert accepted.input_size_bytes == 100_000


def files_under(directory: Path) -> list[Path]:
    return [p for p in directory.rglob("*") if p.is_file()]


async def job_count(clients: Clients) -> int:
    return len((await clients.jobs.ListJobs(jobs_pb.ListJobsRequest())).jobs)
