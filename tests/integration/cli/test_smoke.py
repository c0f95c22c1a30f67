"""``forgesyte smoke`` against a real job API: passes with a real worker, names every deviation."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Iterator
from datetime import timedelta

import pytest

from forgesyte.jobs.v1 import job_service_pb2 as jobs_pb
from forgesyte.jobs.v1 import worker_service_pb2 as worker_pb
from services.job_api.server import RunningJobApi
from tests.support.api import WORKER_TOKEN, Clients, lease_of, worker_metadata
from tests.support.cli import forgesyte, free_port, running_forgesyte
from tests.support.processes import running_process, script


@pytest.fixture
def worker(job_api: RunningJobApi) -> Iterator[subprocess.Popen[str]]:
    """A real ``forgesyte-worker`` process serving the job API under test."""
    env = {
        "FORGESYTE_JOB_API_ADDR": f"127.0.0.1:{job_api.port}",
        "FORGESYTE_WORKER_TOKEN": WORKER_TOKEN,
        "FORGESYTE_LOG_LEVEL": "WARNING",
    }
    with running_process([script("forgesyte-worker")], env) as process:
        yield process


async def wait_for_plugins(clients: Clients) -> None:
    async with asyncio.timeout(30):
        while True:
            if (await clients.jobs.ListPlugins(jobs_pb.ListPluginsRequest())).plugins:
                return
            await asyncio.sleep(0.1)


async def test_smoke_passes_with_a_real_worker(
    job_api: RunningJobApi, clients: Clients, worker: subprocess.Popen[str]
) -> None:
    await wait_for_plugins(clients)
    human = await forgesyte("smoke", port=job_api.port)
    assert human.code == 0, human.stderr
    lines = human.stdout.splitlines()
    assert all(line.startswith("ok  ") for line in lines[:-1])
    assert "motion/detect_motion" in human.stdout
    assert lines[-1].startswith("smoke test passed in ")

    scripted = await forgesyte("--json", "smoke", "--plugin", "scene_cuts", port=job_api.port)
    assert scripted.code == 0, scripted.stderr
    report = scripted.json()
    assert report["ok"] is True
    assert report["error"] is None
    assert (report["plugin_id"], report["tool"]) == ("scene_cuts", "detect_scene_cuts")
    assert [check["name"] for check in report["checks"]] == [
        "plugins",
        "video",
        "submit",
        "status",
        "watch",
        "results",
    ]
    final = await clients.status(report["job_id"])
    assert final.progress == 100


async def test_smoke_without_a_worker_says_so(job_api: RunningJobApi) -> None:
    result = await forgesyte("smoke", port=job_api.port)
    assert result.code == 1
    assert result.one_error_line() == (
        "smoke test failed: no video tool found for any plugin (advertised: none); "
        "is a worker running?"
    )


async def test_smoke_reports_a_job_that_never_finishes(
    job_api: RunningJobApi, clients: Clients
) -> None:
    await clients.advertise()  # advertised, but nobody will run the job
    result = await forgesyte("--json", "smoke", "--wait", "1", port=job_api.port)
    assert result.code == 1
    report = result.json()
    assert report["ok"] is False
    assert "did not finish within 1 s (last seen: pending, progress null)" in report["error"]
    assert [check["name"] for check in report["checks"]] == ["plugins", "video", "submit", "status"]
    assert result.one_error_line() == report["error"]


async def test_smoke_reports_results_that_break_the_contract(
    job_api: RunningJobApi, clients: Clients
) -> None:
    await clients.advertise()
    async with running_forgesyte("smoke", port=job_api.port) as cli:
        claim = await clients.claim(wait=timedelta(seconds=15))
        await clients.complete(lease_of(claim), b'{"frames": []}')
        result = await cli.finish()
    assert result.code == 1
    assert result.one_error_line() == ("smoke test failed: the results lack 'summary'")


async def test_smoke_reports_a_failed_job(job_api: RunningJobApi, clients: Clients) -> None:
    await clients.advertise()
    async with running_forgesyte("smoke", port=job_api.port) as cli:
        claim = await clients.claim(wait=timedelta(seconds=15))
        await clients.worker.FailJob(
            worker_pb.FailJobRequest(lease=lease_of(claim), error_message="codec missing"),
            metadata=worker_metadata(),
        )
        result = await cli.finish()
    assert result.code == 1
    assert result.one_error_line() == (
        f"smoke test failed: job {claim.job.job_id} ended failed: codec missing"
    )


async def test_smoke_of_an_unreachable_deployment() -> None:
    port = free_port()
    result = await forgesyte("--json", "smoke", port=port)
    assert result.code == 3
    assert result.json()["ok"] is False
    assert "cannot reach the job API" in result.one_error_line()


async def test_smoke_through_an_unreachable_gateway() -> None:
    url = f"http://127.0.0.1:{free_port()}/"
    result = await forgesyte("smoke", "--web", url, port=None)
    assert result.code == 3
    assert result.one_error_line().startswith(f"cannot reach the gateway at {url.rstrip('/')} (")
