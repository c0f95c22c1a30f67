"""How ``up`` describes the local stack: ports, token, environment, order."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from services.cli.errors import CliError, ExitCode
from services.cli.stack.local_stack import (
    StackConfig,
    claim_address,
    components,
    connectable,
    stack_config,
)


@pytest.fixture
def listening() -> Iterator[int]:
    """A port some server is listening on."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        yield server.getsockname()[1]


def config(tmp_path: Path, environ: dict[str, str] | None = None, workers: int = 2) -> StackConfig:
    return stack_config(
        environ or {},
        data_dir=tmp_path / "var",
        job_api_addr="127.0.0.1:0",
        gateway_addr="127.0.0.1:0",
        workers=workers,
        worker_concurrency=3,
    )


def test_port_zero_becomes_a_free_port_chosen_once() -> None:
    addr = claim_address("127.0.0.1:0", "the job API")
    host, port = addr.rsplit(":", 1)
    assert host == "127.0.0.1"
    assert int(port) > 0
    with socket.socket() as check:
        check.bind(("127.0.0.1", int(port)))  # still free for the child to take


def test_a_port_in_use_is_refused_with_the_address(listening: int) -> None:
    with pytest.raises(CliError) as raised:
        claim_address(f"127.0.0.1:{listening}", "the gateway")
    assert raised.value.exit_code == ExitCode.USAGE
    assert raised.value.message.startswith(f"127.0.0.1:{listening} is already in use")


@pytest.mark.parametrize("addr", ["nonsense", "127.0.0.1:http", "127.0.0.1:"])
def test_a_malformed_address_is_refused(addr: str) -> None:
    with pytest.raises(CliError, match="is not HOST:PORT"):
        claim_address(addr, "the job API")


@pytest.mark.parametrize(
    ("listen", "connect"),
    [
        ("0.0.0.0:8080", "127.0.0.1:8080"),
        ("[::]:50051", "[::1]:50051"),
        ("127.0.0.1:9", "127.0.0.1:9"),
        ("example.org:80", "example.org:80"),
    ],
)
def test_clients_connect_to_a_reachable_host(listen: str, connect: str) -> None:
    assert connectable(listen) == connect


def test_a_worker_token_is_generated_when_unset_and_kept_when_set(tmp_path: Path) -> None:
    first, second = config(tmp_path), config(tmp_path)
    assert len(first.worker_token) >= 32
    assert first.worker_token != second.worker_token
    given = config(tmp_path, {"FORGESYTE_WORKER_TOKEN": "my-token"})
    assert given.worker_token == "my-token"


def test_children_get_settings_through_their_environment_only(tmp_path: Path) -> None:
    stack = config(tmp_path, {"PATH": "/usr/bin", "FORGESYTE_API_TOKEN": "api"})
    parts = components(stack)
    for part in parts:
        env = part.spec.env
        assert env["FORGESYTE_WORKER_TOKEN"] == stack.worker_token
        assert env["FORGESYTE_DATA_DIR"] == str((tmp_path / "var").resolve())
        assert env["FORGESYTE_JOB_API_ADDR"] == stack.job_api_addr
        assert env["FORGESYTE_GATEWAY_ADDR"] == stack.gateway_addr
        assert env["PATH"] == "/usr/bin"
        assert stack.worker_token not in " ".join(part.spec.argv)
    assert stack.api_token == "api"


def test_the_stack_starts_job_api_then_workers_then_gateway(tmp_path: Path) -> None:
    parts = components(config(tmp_path, workers=2))
    assert [(p.name, p.tier) for p in parts] == [
        ("job-api", 0),
        ("worker-1", 1),
        ("worker-2", 1),
        ("gateway", 2),
    ]
    scripts = [Path(p.spec.argv[0]).name for p in parts]
    assert scripts == [
        "forgesyte-job-api",
        "forgesyte-worker",
        "forgesyte-worker",
        "forgesyte-gateway",
    ]
    assert parts[1].spec.argv[1:] == ["--concurrency", "3"]
    assert all(p.spec.log_path.parent == (tmp_path / "var" / "logs").resolve() for p in parts)
    assert parts[3].spec.log_path.name == "gateway.log"


def test_the_addresses_people_are_shown(tmp_path: Path) -> None:
    stack = config(tmp_path)
    assert stack.web_url == f"http://{stack.gateway_addr}/"
    assert stack.grpc_target == stack.job_api_addr
