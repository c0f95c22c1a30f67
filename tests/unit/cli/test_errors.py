"""Failed calls become one line and an exit code scripts can branch on."""

from __future__ import annotations

import grpc
import pytest

from services.cli.errors import CliError, ExitCode, from_rpc_error, one_line

ADDR = "127.0.0.1:50051"


def rpc_error(code: grpc.StatusCode, details: str) -> grpc.aio.AioRpcError:
    return grpc.aio.AioRpcError(code, grpc.aio.Metadata(), grpc.aio.Metadata(), details, None)


@pytest.mark.parametrize(
    ("code", "exit_code"),
    [
        (grpc.StatusCode.NOT_FOUND, ExitCode.NOT_FOUND),
        (grpc.StatusCode.INVALID_ARGUMENT, ExitCode.REJECTED),
        (grpc.StatusCode.FAILED_PRECONDITION, ExitCode.REJECTED),
        (grpc.StatusCode.RESOURCE_EXHAUSTED, ExitCode.REJECTED),
        (grpc.StatusCode.UNAUTHENTICATED, ExitCode.UNAUTHENTICATED),
        (grpc.StatusCode.PERMISSION_DENIED, ExitCode.UNAUTHENTICATED),
        (grpc.StatusCode.UNAVAILABLE, ExitCode.UNAVAILABLE),
        (grpc.StatusCode.DEADLINE_EXCEEDED, ExitCode.UNAVAILABLE),
        (grpc.StatusCode.INTERNAL, ExitCode.NOT_COMPLETED),
    ],
)
def test_each_status_code_has_its_exit_code(code: grpc.StatusCode, exit_code: ExitCode) -> None:
    assert from_rpc_error(rpc_error(code, "details"), ADDR).exit_code == exit_code


def test_the_job_apis_own_messages_pass_through() -> None:
    error = from_rpc_error(
        rpc_error(grpc.StatusCode.INVALID_ARGUMENT, "unknown plugin 'x'; available plugins: a"),
        ADDR,
    )
    assert error.message == "unknown plugin 'x'; available plugins: a"


def test_an_unreachable_job_api_is_named_with_the_next_step() -> None:
    details = (
        "failed to connect to all addresses; last error: UNKNOWN: ipv4:127.0.0.1:50051: "
        "Failed to connect to remote host: connect: Connection refused (111)"
    )
    error = from_rpc_error(rpc_error(grpc.StatusCode.UNAVAILABLE, details), ADDR)
    assert error.message == (
        f"cannot reach the job API at {ADDR} (connection refused); "
        "is it running? `forgesyte up` starts one"
    )


def test_a_job_api_shutting_down_is_not_told_to_be_started() -> None:
    error = from_rpc_error(rpc_error(grpc.StatusCode.UNAVAILABLE, "server shutting down"), ADDR)
    assert error.message == f"cannot reach the job API at {ADDR} (it is shutting down)"


def test_a_missing_token_names_the_variable() -> None:
    error = from_rpc_error(rpc_error(grpc.StatusCode.UNAUTHENTICATED, "missing credentials"), ADDR)
    assert error.message == "missing credentials (set FORGESYTE_API_TOKEN)"


def test_messages_are_always_one_line() -> None:
    assert CliError("first\n  second\tthird", ExitCode.USAGE).message == "first second third"
    assert one_line("x" * 600, limit=10) == "x" * 9 + "…"
