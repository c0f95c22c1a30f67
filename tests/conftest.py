"""Fixtures shared by every test: databases, a running job API, clients."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from services.common.config import Settings, sqlite_url
from services.job_api.jobs import Timings
from services.job_api.server import RunningJobApi, start_job_api
from tests.support.api import WORKER_TOKEN, Clients, connect
from tests.support.postgres import temporary_schema

# Short enough that lease and watch behaviour shows within a test.
FAST_TIMINGS = Timings(
    watch_poll_seconds=0.5,
    claim_poll_seconds=0.2,
    reaper_interval_seconds=0.1,
    database_check_seconds=0.2,
    upload_idle_seconds=2.0,
)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Every database test runs on the embedded SQLite file and on PostgreSQL."""
    if request.param == "sqlite":
        yield sqlite_url(tmp_path)
    else:
        with temporary_schema() as url:
            yield url


@pytest.fixture
def sqlite_database_url(tmp_path: Path) -> str:
    return sqlite_url(tmp_path)


def job_api_settings(data_dir: Path, database_url: str, **overrides: object) -> Settings:
    settings = Settings(
        data_dir=data_dir,
        database_url=database_url,
        job_api_addr="127.0.0.1:0",
        gateway_addr="127.0.0.1:0",
        worker_token=WORKER_TOKEN,
        api_token=None,
        max_upload_bytes=64 * 1024 * 1024,
        lease_seconds=30.0,
        max_attempts=3,
    )
    return settings.with_overrides(**overrides)


@pytest.fixture
def job_api_overrides() -> dict[str, object]:
    """Settings a test module wants changed; override this fixture to change them."""
    return {}


@pytest.fixture
def job_api_database_url(sqlite_database_url: str) -> str:
    """The database the ``job_api`` fixture uses; a module may override it to
    ``database_url`` to run its tests on both backends."""
    return sqlite_database_url


@pytest.fixture
async def job_api(
    tmp_path: Path, job_api_database_url: str, job_api_overrides: dict[str, object]
) -> AsyncIterator[RunningJobApi]:
    """A real job API on an ephemeral port, on a fresh database."""
    settings = job_api_settings(tmp_path / "data", job_api_database_url, **job_api_overrides)
    api = await start_job_api(settings, timings=FAST_TIMINGS)
    yield api
    await api.stop(grace_seconds=1.0)


@pytest.fixture
async def clients(job_api: RunningJobApi) -> AsyncIterator[Clients]:
    async with connect(job_api.port) as connected:
        yield connected
