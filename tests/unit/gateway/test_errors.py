"""gRPC status codes become the HTTP statuses issue 4 lists, with safe details."""

from __future__ import annotations

import grpc
import pytest

from services.gateway.errors import from_rpc_error, http_status


def rpc_error(
    code: grpc.StatusCode, details: str = "what the job API said"
) -> grpc.aio.AioRpcError:
    return grpc.aio.AioRpcError(code, grpc.aio.Metadata(), grpc.aio.Metadata(), details=details)


@pytest.mark.parametrize(
    ("code", "status"),
    [
        (grpc.StatusCode.NOT_FOUND, 404),
        (grpc.StatusCode.INVALID_ARGUMENT, 400),
        (grpc.StatusCode.FAILED_PRECONDITION, 400),
        (grpc.StatusCode.OUT_OF_RANGE, 400),
        (grpc.StatusCode.UNAUTHENTICATED, 401),
        (grpc.StatusCode.PERMISSION_DENIED, 403),
        (grpc.StatusCode.ALREADY_EXISTS, 409),
        (grpc.StatusCode.RESOURCE_EXHAUSTED, 429),
        (grpc.StatusCode.UNIMPLEMENTED, 501),
        (grpc.StatusCode.UNAVAILABLE, 503),
        (grpc.StatusCode.CANCELLED, 503),
        (grpc.StatusCode.DEADLINE_EXCEEDED, 504),
        (grpc.StatusCode.INTERNAL, 502),
        (grpc.StatusCode.UNKNOWN, 502),
        (grpc.StatusCode.DATA_LOSS, 502),
    ],
)
def test_every_code_has_its_status(code: grpc.StatusCode, status: int) -> None:
    assert http_status(code) == status


def test_resource_exhausted_is_413_for_uploads_only() -> None:
    assert http_status(grpc.StatusCode.RESOURCE_EXHAUSTED, upload=True) == 413
    assert http_status(grpc.StatusCode.RESOURCE_EXHAUSTED, upload=False) == 429
    assert http_status(grpc.StatusCode.INVALID_ARGUMENT, upload=True) == 400
    error = from_rpc_error(rpc_error(grpc.StatusCode.RESOURCE_EXHAUSTED), upload=True)
    assert (error.status, error.detail) == (413, "what the job API said")


def test_not_found_says_job_not_found_as_forgesyte_does() -> None:
    error = from_rpc_error(rpc_error(grpc.StatusCode.NOT_FOUND, "job 1234 not found"))
    assert (error.status, error.detail) == (404, "Job not found")


def test_client_errors_keep_the_job_api_message() -> None:
    error = from_rpc_error(rpc_error(grpc.StatusCode.FAILED_PRECONDITION, "job is pending"))
    assert (error.status, error.detail) == (400, "job is pending")


def test_a_client_error_without_details_gets_a_sentence() -> None:
    error = from_rpc_error(rpc_error(grpc.StatusCode.PERMISSION_DENIED, ""))
    assert (error.status, error.detail) == (403, "Not allowed")


@pytest.mark.parametrize(
    "code",
    [grpc.StatusCode.INTERNAL, grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED],
)
def test_server_side_failures_never_leak_the_job_api_internals(code: grpc.StatusCode) -> None:
    error = from_rpc_error(rpc_error(code, 'Traceback (most recent call last): File "x.py"'))
    assert "Traceback" not in error.detail
    assert "job API" in error.detail


def test_retry_and_authentication_headers() -> None:
    assert from_rpc_error(rpc_error(grpc.StatusCode.UNAVAILABLE)).headers == {"Retry-After": "1"}
    assert from_rpc_error(rpc_error(grpc.StatusCode.RESOURCE_EXHAUSTED)).headers == {
        "Retry-After": "1"
    }
    assert from_rpc_error(rpc_error(grpc.StatusCode.UNAUTHENTICATED)).headers == {
        "WWW-Authenticate": "Bearer"
    }
