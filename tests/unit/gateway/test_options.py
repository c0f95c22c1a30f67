"""Gateway options from the shared settings, and listen addresses."""

from __future__ import annotations

import pytest

from services.common.config import ConfigError, load_settings
from services.gateway.options import GatewayOptions, split_host_port


def test_options_come_from_the_environment() -> None:
    settings = load_settings(
        {
            "FORGESYTE_GATEWAY_ADDR": "0.0.0.0:9000",
            "FORGESYTE_JOB_API_ADDR": "jobs:50051",
            "FORGESYTE_API_TOKEN": "t",
            "FORGESYTE_MAX_UPLOAD_BYTES": "1GiB",
        }
    )
    options = GatewayOptions.from_settings(settings, keepalive_seconds=2.0)
    assert (options.listen_addr, options.job_api_addr) == ("0.0.0.0:9000", "jobs:50051")
    assert (options.api_token, options.max_upload_bytes) == ("t", 1024**3)
    assert options.keepalive_seconds == 2.0
    assert GatewayOptions.from_settings(settings).keepalive_seconds == 15.0


@pytest.mark.parametrize(
    ("addr", "parsed"),
    [
        ("127.0.0.1:8080", ("127.0.0.1", 8080)),
        ("[::1]:0", ("::1", 0)),
        (":8080", ("127.0.0.1", 8080)),
    ],
)
def test_listen_addresses(addr: str, parsed: tuple[str, int]) -> None:
    assert split_host_port(addr) == parsed


@pytest.mark.parametrize("addr", ["8080", "host:", "host:http"])
def test_bad_listen_addresses(addr: str) -> None:
    with pytest.raises(ConfigError):
        split_host_port(addr)
