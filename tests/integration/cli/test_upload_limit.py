"""An upload above the job API's limit is one line and exit code 5, whenever it is refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from forgesyte.jobs.v1 import job_service_pb2 as jobs_pb
from services.job_api.server import RunningJobApi
from tests.support.api import Clients
from tests.support.cli import forgesyte

LIMIT = 256 * 1024


@pytest.fixture
def job_api_overrides() -> dict[str, object]:
    return {"max_upload_bytes": LIMIT}


async def test_a_file_over_the_limit_is_refused_without_a_traceback(
    job_api: RunningJobApi, clients: Clients, tmp_path: Path
) -> None:
    await clients.advertise()
    video = tmp_path / "big.mp4"
    video.write_bytes(b"\0" * (LIMIT * 12))
    for _ in range(3):  # the refusal races the upload; every outcome must read the same
        result = await forgesyte(
            "submit", str(video), "--plugin", "motion", "--tool", "detect_motion", port=job_api.port
        )
        assert result.code == 5
        assert "limit" in result.one_error_line(), result.stderr
    stored = await clients.jobs.ListJobs(jobs_pb.ListJobsRequest())
    assert list(stored.jobs) == [], "nothing is stored for a refused upload"
