"""A real gateway in front of a real job API (SQLite file), both on port 0,
and an HTTP client for it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from services.gateway.app import RunningGateway
from services.job_api.server import RunningJobApi
from tests.support.api import Clients
from tests.support.gateway import running_gateway


@pytest.fixture
def gateway_overrides() -> dict[str, Any]:
    """Gateway options a test wants changed; override or parametrize to change them."""
    return {}


@pytest.fixture
async def gateway(
    job_api: RunningJobApi, gateway_overrides: dict[str, Any]
) -> AsyncIterator[RunningGateway]:
    async with running_gateway(job_api.port, **gateway_overrides) as running:
        yield running


@pytest.fixture
async def http(gateway: RunningGateway) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(base_url=f"http://127.0.0.1:{gateway.port}") as session:
        yield session


@pytest.fixture
async def advertised(clients: Clients) -> Clients:
    """Clients for a job API that knows the test plugin (motion/detect_motion)."""
    await clients.advertise()
    return clients
