"""Configuration shared by every ForgeSyte process, read from the environment.

Each setting has one environment variable (see ARCHITECTURE.md); command-line
flags may override them. Values are parsed here once so that a typo fails at
start-up with a message naming the variable, not later in some request.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from services.common.tls import TLS_VARIABLES, TlsConfigError, TlsSettings, load_tls

DEFAULT_JOB_API_ADDR = "127.0.0.1:50051"
DEFAULT_GATEWAY_ADDR = "127.0.0.1:8080"
DEFAULT_MAX_UPLOAD_BYTES = 2 * 1024**3
DEFAULT_LEASE_SECONDS = 30.0
DEFAULT_MAX_ATTEMPTS = 3

# Every variable this module reads; deploy manifests may set only these.
ENVIRONMENT_VARIABLES = (
    "FORGESYTE_DATA_DIR",
    "FORGESYTE_DATABASE_URL",
    "FORGESYTE_JOB_API_ADDR",
    "FORGESYTE_GATEWAY_ADDR",
    "FORGESYTE_WORKER_TOKEN",
    "FORGESYTE_API_TOKEN",
    "FORGESYTE_CORS_ORIGINS",
    "FORGESYTE_MAX_UPLOAD_BYTES",
    "FORGESYTE_LEASE_SECONDS",
    "FORGESYTE_MAX_ATTEMPTS",
    "FORGESYTE_LOG_LEVEL",
    "FORGESYTE_LOG_FORMAT",
    *TLS_VARIABLES,
    "FORGESYTE_YOLO_MODEL",
    "FORGESYTE_YOLO_LABELS",
)

_SIZE_UNITS = {"": 1, "b": 1, "kib": 1024, "mib": 1024**2, "gib": 1024**3, "tib": 1024**4}
_SIZE_PATTERN = re.compile(r"^\s*(\d+)\s*([a-z]*)\s*$", re.IGNORECASE)
# scheme://host[:port], as a browser sends it in the Origin header (host a
# name, an IPv4 address or a bracketed IPv6 one; no wildcards).
_ORIGIN_PATTERN = re.compile(r"^https?://([a-z0-9.-]+|\[[0-9a-f:.]+\])(:\d{1,5})?$")


class ConfigError(ValueError):
    """A setting has a value that cannot be used; the message names it."""


@dataclass(frozen=True)
class Settings:
    """Every setting a ForgeSyte process may need."""

    data_dir: Path
    database_url: str
    job_api_addr: str
    gateway_addr: str
    worker_token: str | None
    api_token: str | None
    max_upload_bytes: int
    lease_seconds: float
    max_attempts: int
    tls: TlsSettings = field(default_factory=TlsSettings)
    # Web origins allowed to call the gateway from a browser ("*": any).
    cors_origins: tuple[str, ...] = ()

    def with_overrides(self, **changes: object) -> Settings:
        """A copy with the given (non-None) fields replaced, for command-line flags."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})  # type: ignore[arg-type]


def parse_size(text: str, variable: str) -> int:
    """Parse "2147483648", "512MiB" or "2 GiB" into a byte count."""
    match = _SIZE_PATTERN.match(text)
    unit = match.group(2).lower() if match else ""
    if not match or unit not in _SIZE_UNITS:
        raise ConfigError(f"{variable}={text!r}: expected a byte count such as 1048576 or 512MiB")
    size = int(match.group(1)) * _SIZE_UNITS[unit]
    if size <= 0:
        raise ConfigError(f"{variable}={text!r}: must be greater than zero")
    return size


def _positive_float(text: str, variable: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ConfigError(f"{variable}={text!r}: expected a number of seconds") from None
    if not value > 0 or value == float("inf"):
        raise ConfigError(f"{variable}={text!r}: must be a positive, finite number")
    return value


def _positive_int(text: str, variable: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise ConfigError(f"{variable}={text!r}: expected a whole number") from None
    if value <= 0:
        raise ConfigError(f"{variable}={text!r}: must be at least 1")
    return value


def parse_origins(text: str, variable: str) -> tuple[str, ...]:
    """``"https://ui.example.com, http://localhost:5173"`` or ``"*"``."""
    # Browsers send scheme and host in lower case.
    origins = tuple(part.strip().rstrip("/").lower() for part in text.split(",") if part.strip())
    for origin in origins:
        if origin != "*" and not _ORIGIN_PATTERN.match(origin):
            raise ConfigError(
                f"{variable}: {origin!r} is not an origin such as https://ui.example.com:8443"
            )
    if "*" in origins and len(origins) > 1:
        raise ConfigError(f"{variable}: '*' allows every origin; give it alone")
    return origins


def sqlite_url(data_dir: Path) -> str:
    """The embedded default database: one SQLite file in the data dir."""
    return f"sqlite:///{(data_dir / 'forgesyte.db').resolve()}"


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read every FORGESYTE_* variable, applying the documented defaults."""
    env = os.environ if environ is None else environ

    def get(name: str) -> str | None:
        value = env.get(name, "").strip()
        return value or None

    data_dir = Path(get("FORGESYTE_DATA_DIR") or "./var")
    max_upload = get("FORGESYTE_MAX_UPLOAD_BYTES")
    lease = get("FORGESYTE_LEASE_SECONDS")
    attempts = get("FORGESYTE_MAX_ATTEMPTS")
    origins = get("FORGESYTE_CORS_ORIGINS")
    return Settings(
        data_dir=data_dir,
        database_url=get("FORGESYTE_DATABASE_URL") or sqlite_url(data_dir),
        job_api_addr=get("FORGESYTE_JOB_API_ADDR") or DEFAULT_JOB_API_ADDR,
        gateway_addr=get("FORGESYTE_GATEWAY_ADDR") or DEFAULT_GATEWAY_ADDR,
        worker_token=get("FORGESYTE_WORKER_TOKEN"),
        api_token=get("FORGESYTE_API_TOKEN"),
        max_upload_bytes=(
            parse_size(max_upload, "FORGESYTE_MAX_UPLOAD_BYTES")
            if max_upload
            else DEFAULT_MAX_UPLOAD_BYTES
        ),
        lease_seconds=(
            _positive_float(lease, "FORGESYTE_LEASE_SECONDS") if lease else DEFAULT_LEASE_SECONDS
        ),
        max_attempts=(
            _positive_int(attempts, "FORGESYTE_MAX_ATTEMPTS") if attempts else DEFAULT_MAX_ATTEMPTS
        ),
        tls=_tls(env),
        cors_origins=parse_origins(origins, "FORGESYTE_CORS_ORIGINS") if origins else (),
    )


def _tls(env: Mapping[str, str]) -> TlsSettings:
    try:
        return load_tls(env)
    except TlsConfigError as error:
        raise ConfigError(str(error)) from None
