"""Settings from the environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.common.config import (
    DEFAULT_JOB_API_ADDR,
    DEFAULT_MAX_UPLOAD_BYTES,
    ConfigError,
    load_settings,
    parse_size,
)


def test_defaults_match_the_architecture_guide() -> None:
    settings = load_settings({})
    assert settings.data_dir == Path("./var")
    assert settings.database_url.startswith("sqlite:///")
    assert settings.database_url.endswith("/var/forgesyte.db")
    assert settings.job_api_addr == DEFAULT_JOB_API_ADDR == "127.0.0.1:50051"
    assert settings.gateway_addr == "127.0.0.1:8080"
    assert settings.worker_token is None
    assert settings.api_token is None
    assert settings.max_upload_bytes == DEFAULT_MAX_UPLOAD_BYTES == 2 * 1024**3
    assert settings.lease_seconds == 30.0
    assert settings.cors_origins == ()


def test_every_variable_is_read() -> None:
    settings = load_settings(
        {
            "FORGESYTE_DATA_DIR": "/srv/fs",
            "FORGESYTE_DATABASE_URL": "postgresql+psycopg://db/fs",
            "FORGESYTE_JOB_API_ADDR": "0.0.0.0:6000",
            "FORGESYTE_GATEWAY_ADDR": "0.0.0.0:7000",
            "FORGESYTE_WORKER_TOKEN": "w",
            "FORGESYTE_API_TOKEN": "a",
            "FORGESYTE_MAX_UPLOAD_BYTES": "512MiB",
            "FORGESYTE_LEASE_SECONDS": "12.5",
            "FORGESYTE_MAX_ATTEMPTS": "5",
            "FORGESYTE_CORS_ORIGINS": "https://UI.example.com, http://localhost:5173/, http://[::1]:8000",
        }
    )
    assert settings.data_dir == Path("/srv/fs")
    assert settings.database_url == "postgresql+psycopg://db/fs"
    assert settings.job_api_addr == "0.0.0.0:6000"
    assert settings.gateway_addr == "0.0.0.0:7000"
    assert (settings.worker_token, settings.api_token) == ("w", "a")
    assert settings.max_upload_bytes == 512 * 1024**2
    assert settings.lease_seconds == 12.5
    assert settings.max_attempts == 5
    assert settings.cors_origins == (
        "https://ui.example.com",
        "http://localhost:5173",
        "http://[::1]:8000",
    )


@pytest.mark.parametrize(
    ("text", "size"), [("1048576", 1048576), ("2 GiB", 2 * 1024**3), ("10kib", 10240)]
)
def test_sizes_parse(text: str, size: int) -> None:
    assert parse_size(text, "X") == size


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("FORGESYTE_MAX_UPLOAD_BYTES", "lots"),
        ("FORGESYTE_MAX_UPLOAD_BYTES", "0"),
        ("FORGESYTE_MAX_UPLOAD_BYTES", "5 parsecs"),
        ("FORGESYTE_LEASE_SECONDS", "-1"),
        ("FORGESYTE_LEASE_SECONDS", "inf"),
        ("FORGESYTE_LEASE_SECONDS", "soon"),
        ("FORGESYTE_MAX_ATTEMPTS", "0"),
        ("FORGESYTE_MAX_ATTEMPTS", "2.5"),
        ("FORGESYTE_CORS_ORIGINS", "ui.example.com"),
        ("FORGESYTE_CORS_ORIGINS", "https://ui.example.com/app"),
        ("FORGESYTE_CORS_ORIGINS", "*, https://ui.example.com"),
        ("FORGESYTE_CORS_ORIGINS", "https://*.example.com"),
    ],
)
def test_bad_values_name_the_variable(variable: str, value: str) -> None:
    with pytest.raises(ConfigError, match=variable):
        load_settings({variable: value})


def test_any_origin_is_a_star_alone() -> None:
    assert load_settings({"FORGESYTE_CORS_ORIGINS": " * "}).cors_origins == ("*",)
