"""What the gateway needs to know, gathered in one value.

Most of it comes from the shared ``Settings`` (environment variables); the
timings are gateway-only and have defaults that suit production. Tests
shorten them (a keep-alive every 15 s would make an SSE test slow), which is
why they are fields rather than constants.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from services.common.config import ConfigError, Settings
from services.common.tls import TlsSettings

DEFAULT_CALL_TIMEOUT_SECONDS = 10.0
DEFAULT_HEALTH_TIMEOUT_SECONDS = 2.0
DEFAULT_KEEPALIVE_SECONDS = 15.0
DEFAULT_WATCH_RESUME_SECONDS = 30.0
DEFAULT_UPLOAD_IDLE_SECONDS = 60.0
# SubmitJob advises at most 1 MiB per message; fewer, larger messages cost
# less per byte while keeping the gateway's memory per upload small.
DEFAULT_UPLOAD_CHUNK_BYTES = 512 * 1024
DEFAULT_SHUTDOWN_GRACE_SECONDS = 10.0
# Each cached job holds one WatchProgress stream on the job API (~25 KB
# there); a job API holds a thousand comfortably.
DEFAULT_STATUS_CACHE_JOBS = 1000
DEFAULT_STATUS_CACHE_IDLE_SECONDS = 30.0
DEFAULT_STATUS_CACHE_MAX_AGE_SECONDS = 5.0


@dataclass(frozen=True)
class GatewayOptions:
    """Where to listen, where the job API is, and how long to wait for things."""

    listen_addr: str
    job_api_addr: str
    api_token: str | None
    max_upload_bytes: int
    # Deadline of every unary call to the job API.
    call_timeout_seconds: float = DEFAULT_CALL_TIMEOUT_SECONDS
    # Deadline of the gRPC health check behind /readyz.
    health_timeout_seconds: float = DEFAULT_HEALTH_TIMEOUT_SECONDS
    # How often an idle SSE stream sends a ": keep-alive" comment.
    keepalive_seconds: float = DEFAULT_KEEPALIVE_SECONDS
    # How long an SSE stream keeps retrying WatchProgress after the job API
    # went away (a restart) before it gives up and ends the stream.
    watch_resume_seconds: float = DEFAULT_WATCH_RESUME_SECONDS
    # An upload that sends nothing for this long is abandoned (408).
    upload_idle_seconds: float = DEFAULT_UPLOAD_IDLE_SECONDS
    upload_chunk_bytes: int = DEFAULT_UPLOAD_CHUNK_BYTES
    # How long open requests may take to finish when the gateway stops.
    shutdown_grace_seconds: float = DEFAULT_SHUTDOWN_GRACE_SECONDS
    # How many polled jobs the status cache follows (0: every poll asks the
    # job API), and after how long without a poll it forgets one.
    status_cache_jobs: int = DEFAULT_STATUS_CACHE_JOBS
    status_cache_idle_seconds: float = DEFAULT_STATUS_CACHE_IDLE_SECONDS
    # A cached snapshot unconfirmed for this long is checked with the job API,
    # which bounds what a silently dead stream could hide.
    status_cache_max_age_seconds: float = DEFAULT_STATUS_CACHE_MAX_AGE_SECONDS
    # TLS towards the job API (FORGESYTE_TLS_CA and friends); None: plaintext.
    tls: TlsSettings | None = None
    # Origins whose pages may call the REST API (FORGESYTE_CORS_ORIGINS).
    cors_origins: tuple[str, ...] = ()

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> GatewayOptions:
        """The options for ``settings``, with any gateway-only field replaced."""
        options = cls(
            listen_addr=settings.gateway_addr,
            job_api_addr=settings.job_api_addr,
            api_token=settings.api_token,
            max_upload_bytes=settings.max_upload_bytes,
            tls=settings.tls,
            cors_origins=settings.cors_origins,
        )
        return replace(options, **overrides)


def split_host_port(addr: str) -> tuple[str, int]:
    """``"127.0.0.1:8080"`` → ``("127.0.0.1", 8080)``; ``"[::1]:0"`` works too."""
    host, sep, port = addr.rpartition(":")
    if not sep or not port.isdigit():
        raise ConfigError(f"expected HOST:PORT, got {addr!r}")
    return host.strip("[]") or "127.0.0.1", int(port)
