"""The one place where failures become HTTP statuses and ``{"detail": ...}`` bodies.

The job API's messages for client mistakes (4xx) are written to be shown to
callers, so they pass through. Server-side failures (5xx) get a fixed,
helpful sentence instead: the job API's internals are its own business, and
a traceback never leaves the gateway.
"""

from __future__ import annotations

from typing import Final

import grpc
import structlog

log = structlog.get_logger("forgesyte.gateway")

JOB_NOT_FOUND: Final = "Job not found"

# gRPC code → HTTP status, for every call except uploads (see ``http_status``).
_STATUS_FOR_CODE: Final[dict[grpc.StatusCode, int]] = {
    grpc.StatusCode.INVALID_ARGUMENT: 400,
    grpc.StatusCode.FAILED_PRECONDITION: 400,
    grpc.StatusCode.OUT_OF_RANGE: 400,
    grpc.StatusCode.UNAUTHENTICATED: 401,
    grpc.StatusCode.PERMISSION_DENIED: 403,
    grpc.StatusCode.NOT_FOUND: 404,
    grpc.StatusCode.ALREADY_EXISTS: 409,
    grpc.StatusCode.RESOURCE_EXHAUSTED: 429,
    grpc.StatusCode.UNIMPLEMENTED: 501,
    grpc.StatusCode.UNAVAILABLE: 503,
    # The job API cancels calls only while it shuts down: try again shortly.
    grpc.StatusCode.CANCELLED: 503,
    grpc.StatusCode.DEADLINE_EXCEEDED: 504,
}
# Anything else (INTERNAL, UNKNOWN, DATA_LOSS, ABORTED) is the job API failing.
_BAD_GATEWAY: Final = 502

_SERVER_SIDE_DETAIL: Final[dict[int, str]] = {
    501: "The job API does not support this operation",
    502: "The job API failed to handle the request; see its log",
    503: "The job API is unavailable; retry shortly",
    504: "The job API did not answer in time; retry shortly",
}


class ApiError(Exception):
    """A failure the gateway itself detects, answered as ``{"detail": message}``."""

    def __init__(self, status: int, detail: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.headers = headers or {}


def http_status(code: grpc.StatusCode, *, upload: bool = False) -> int:
    """The HTTP status for a gRPC status code.

    RESOURCE_EXHAUSTED means "too large" for an upload (413) and "too many
    requests" for anything else (429).
    """
    if upload and code == grpc.StatusCode.RESOURCE_EXHAUSTED:
        return 413
    return _STATUS_FOR_CODE.get(code, _BAD_GATEWAY)


def from_rpc_error(error: grpc.aio.AioRpcError, *, upload: bool = False) -> ApiError:
    """The HTTP answer for a failed call to the job API."""
    code = error.code()
    status = http_status(code, upload=upload)
    if code == grpc.StatusCode.NOT_FOUND:
        # ForgeSyte's clients compare this text; the job API's says which id.
        detail = JOB_NOT_FOUND
    elif status >= 500:
        # The job API's own words stay in the gateway's log.
        log.warning("job API call failed", code=code.name, details=error.details())
        detail = _SERVER_SIDE_DETAIL.get(status, _SERVER_SIDE_DETAIL[_BAD_GATEWAY])
    else:
        detail = error.details() or default_detail(status)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else {}
    if status in (429, 503):
        headers["Retry-After"] = "1"
    return ApiError(status, detail, headers)


def default_detail(status: int) -> str:
    """A sentence for a status that came without one."""
    return _SERVER_SIDE_DETAIL.get(status) or _GENERIC_DETAIL.get(status, "Request failed")


_GENERIC_DETAIL: Final[dict[int, str]] = {
    400: "Bad request",
    401: "Authentication required: send 'Authorization: Bearer <token>'",
    403: "Not allowed",
    404: "Not found",
    405: "Method not allowed",
    408: "The request took too long to arrive",
    409: "Conflict",
    413: "The upload is too large",
    415: "Unsupported media type",
    429: "Too many requests; retry shortly",
    500: "Internal error in the gateway; see its log",
}
