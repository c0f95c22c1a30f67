"""``watch`` keeps following a job across a job API restart (as ``up`` restarts a crashed one)."""

from __future__ import annotations

import json
from pathlib import Path

from services.common.config import sqlite_url
from services.job_api.server import start_job_api
from tests.conftest import FAST_TIMINGS, job_api_settings
from tests.support.api import connect, lease_of
from tests.support.cli import free_port, running_forgesyte

RESULTS: dict[str, object] = {"frames": [], "summary": {}}


async def test_watch_reconnects_after_the_job_api_restarts(tmp_path: Path) -> None:
    port = free_port()
    settings = job_api_settings(
        tmp_path / "data", sqlite_url(tmp_path), job_api_addr=f"127.0.0.1:{port}"
    )
    api = await start_job_api(settings, timings=FAST_TIMINGS)
    try:
        async with connect(port) as clients:
            await clients.advertise()
            job = await clients.submit(b"video" * 100)
            lease = lease_of(await clients.claim())
            await clients.report(lease, 30, current_frame=3, total_frames=10)

        async with running_forgesyte("watch", job.job_id, port=port) as cli:
            await cli.stderr_line(r": 30%  frame 3/10")
            await api.stop(grace_seconds=1.0)
            await cli.stderr_line("lost the connection to the job API; reconnecting")

            api = await start_job_api(settings, timings=FAST_TIMINGS)
            async with connect(port) as clients:
                await clients.report(lease, 60, current_frame=6, total_frames=10)
                await cli.stderr_line(r": 60%  frame 6/10")
                await clients.complete(lease, json.dumps(RESULTS).encode())
            result = await cli.finish()
    finally:
        await api.stop(grace_seconds=1.0)
    assert result.code == 0, result.stderr
    assert f"job {job.job_id} completed" in result.stdout
    assert "Traceback" not in result.stderr
