"""A gateway under test: in-process on port 0, or the real console script,
plus multipart framing for uploads streamed from anywhere."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from services.gateway.app import RunningGateway, start_gateway
from services.gateway.options import GatewayOptions

# Tests that wait for a keep-alive shorten it further; the others should not
# see keep-alives interleaved with events more than they must.
TEST_KEEPALIVE_SECONDS = 5.0


def gateway_options(job_api_port: int, **overrides: Any) -> GatewayOptions:
    """Options for a gateway on an ephemeral port in front of a local job API."""
    values: dict[str, Any] = {
        "listen_addr": "127.0.0.1:0",
        "job_api_addr": f"127.0.0.1:{job_api_port}",
        "api_token": None,
        "max_upload_bytes": 64 * 1024 * 1024,
        "keepalive_seconds": TEST_KEEPALIVE_SECONDS,
        "watch_resume_seconds": 10.0,
        "shutdown_grace_seconds": 2.0,
        **overrides,
    }
    return GatewayOptions(**values)


@asynccontextmanager
async def running_gateway(job_api_port: int, **overrides: Any) -> AsyncIterator[RunningGateway]:
    gateway = await start_gateway(gateway_options(job_api_port, **overrides))
    try:
        yield gateway
    finally:
        await gateway.stop()


def gateway_env(job_api_port: int, **extra: str) -> dict[str, str]:
    """Environment for ``forgesyte-gateway`` as a process."""
    return {
        "FORGESYTE_GATEWAY_ADDR": "127.0.0.1:0",
        "FORGESYTE_JOB_API_ADDR": f"127.0.0.1:{job_api_port}",
        "FORGESYTE_LOG_LEVEL": "WARNING",
        **extra,
    }


class MultipartFraming:
    """The bytes around one file field, so a body can be streamed from any source
    with an exact Content-Length (and no second copy of the file)."""

    def __init__(self, filename: str, field: str = "file") -> None:
        self.boundary = f"forgesyte-{uuid.uuid4().hex}"
        self.head = (
            f"--{self.boundary}\r\n"
            f'Content-Disposition: form-data; name="{field}"; filename="{filename}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        self.tail = f"\r\n--{self.boundary}--\r\n".encode()

    @property
    def content_type(self) -> str:
        return f"multipart/form-data; boundary={self.boundary}"

    def content_length(self, file_size: int) -> int:
        return len(self.head) + file_size + len(self.tail)

    def body(self, data: bytes) -> bytes:
        return self.head + data + self.tail
