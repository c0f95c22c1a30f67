"""Server interceptors: request logs, token checks, and the one place where
domain errors become gRPC status codes.

Order matters; ``default_interceptors`` returns them outermost first:
logging sees every call's final code (including refused ones), auth runs
before any handler, and error mapping sits next to the handlers.
"""

from __future__ import annotations

import asyncio
import hmac
import time
from collections.abc import AsyncIterator, Callable, Iterable
from typing import Any, NoReturn

import grpc
import structlog
from grpc_interceptor import AsyncExceptionToStatusInterceptor, AsyncServerInterceptor

from services.job_api import errors

log = structlog.get_logger("forgesyte.rpc")

JOB_SERVICE = "forgesyte.jobs.v1.JobService"
WORKER_SERVICE = "forgesyte.jobs.v1.WorkerService"

# The one mapping from expected failures to status codes. Subclasses come
# before their bases: the first match wins.
STATUS_FOR_ERROR: tuple[tuple[type[errors.DomainError], grpc.StatusCode], ...] = (
    (errors.JobNotFound, grpc.StatusCode.NOT_FOUND),
    (errors.InvalidArgument, grpc.StatusCode.INVALID_ARGUMENT),
    (errors.LeaseNotHeld, grpc.StatusCode.FAILED_PRECONDITION),
    (errors.IllegalTransition, grpc.StatusCode.FAILED_PRECONDITION),
    (errors.UploadTooLarge, grpc.StatusCode.RESOURCE_EXHAUSTED),
    (errors.UploadStalled, grpc.StatusCode.DEADLINE_EXCEEDED),
    (errors.DuplicateRequest, grpc.StatusCode.ALREADY_EXISTS),
    (errors.StorageUnavailable, grpc.StatusCode.UNAVAILABLE),
    (errors.ServerShuttingDown, grpc.StatusCode.UNAVAILABLE),
)


def status_for(error: errors.DomainError) -> grpc.StatusCode:
    for error_type, code in STATUS_FOR_ERROR:
        if isinstance(error, error_type):
            return code
    return grpc.StatusCode.INTERNAL


class ErrorMappingInterceptor(AsyncExceptionToStatusInterceptor):
    """Domain errors become their status code; anything unexpected is INTERNAL.

    Unexpected errors are logged with their traceback here and reach the
    caller only as a generic message: a traceback is never sent.
    """

    async def handle_exception(
        self,
        ex: Exception,
        request_or_iterator: Any,
        context: grpc.aio.ServicerContext[Any, Any],
        method_name: str,
    ) -> NoReturn:
        if isinstance(ex, grpc.aio.AbortError):
            raise ex
        if isinstance(ex, errors.DomainError):
            await context.abort(status_for(ex), str(ex))
        log.exception("unexpected error", method=method_name)
        await context.abort(grpc.StatusCode.INTERNAL, "internal error; see the job API's log")


class TokenAuthInterceptor(AsyncServerInterceptor):
    """Bearer tokens: always for WorkerService, for JobService when configured.

    Tokens are compared in constant time and never logged. Health and
    reflection stay open so probes and grpcurl work without credentials.
    """

    def __init__(self, worker_token: str, api_token: str | None) -> None:
        self._required = {WORKER_SERVICE: worker_token.encode()}
        if api_token:
            self._required[JOB_SERVICE] = api_token.encode()

    async def intercept(
        self,
        method: Callable[..., Any],
        request_or_iterator: Any,
        context: grpc.aio.ServicerContext[Any, Any],
        method_name: str,
    ) -> Any:
        service = method_name.split("/")[1] if method_name.count("/") >= 2 else ""
        expected = self._required.get(service)
        if expected is not None:
            presented = bearer_token(context.invocation_metadata() or ())
            if presented is None:
                await context.abort(
                    grpc.StatusCode.UNAUTHENTICATED,
                    "missing credentials: send 'authorization: Bearer <token>' metadata",
                )
            if not hmac.compare_digest(presented.encode(), expected):
                code = (
                    grpc.StatusCode.PERMISSION_DENIED
                    if service == WORKER_SERVICE
                    else grpc.StatusCode.UNAUTHENTICATED
                )
                await context.abort(code, "the bearer token is not valid for this service")
        return await super().intercept(method, request_or_iterator, context, method_name)


def bearer_token(metadata: Iterable[tuple[str, str | bytes]]) -> str | None:
    for key, value in metadata:
        if key.lower() == "authorization":
            text = value.decode() if isinstance(value, bytes) else value
            scheme, _, token = text.partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return token.strip()
    return None


class RequestLogInterceptor(AsyncServerInterceptor):
    """One structured line per call: method, job_id, status code, duration."""

    async def intercept(
        self,
        method: Callable[..., Any],
        request_or_iterator: Any,
        context: grpc.aio.ServicerContext[Any, Any],
        method_name: str,
    ) -> Any:
        started = time.perf_counter()
        job_id = _job_id_of(request_or_iterator)
        if job_id:
            structlog.contextvars.bind_contextvars(job_id=job_id)
        try:
            response = method(request_or_iterator, context)
            if hasattr(response, "__aiter__"):
                return self._logged_stream(response, context, method_name, started)
            result = await response
        except BaseException as error:
            _log_call(method_name, _code_of(error, context), started)
            raise
        _log_call(method_name, grpc.StatusCode.OK, started)
        return result

    async def _logged_stream(
        self,
        responses: AsyncIterator[Any],
        context: grpc.aio.ServicerContext[Any, Any],
        method_name: str,
        started: float,
    ) -> AsyncIterator[Any]:
        try:
            async for response in responses:
                yield response
        except BaseException as error:
            _log_call(method_name, _code_of(error, context), started)
            raise
        _log_call(method_name, grpc.StatusCode.OK, started)


def _job_id_of(request: Any) -> str | None:
    """The job a unary request is about, for the log line."""
    for holder in (request, getattr(request, "lease", None)):
        job_id = getattr(holder, "job_id", None)
        if isinstance(job_id, str) and job_id:
            return job_id[:64]
    return None


def _code_of(error: BaseException, context: grpc.aio.ServicerContext[Any, Any]) -> grpc.StatusCode:
    if isinstance(error, grpc.aio.AbortError):
        code = context.code()
        return code if isinstance(code, grpc.StatusCode) else grpc.StatusCode.UNKNOWN
    if isinstance(error, GeneratorExit | asyncio.CancelledError):
        return grpc.StatusCode.CANCELLED
    return grpc.StatusCode.INTERNAL


def _log_call(method_name: str, code: grpc.StatusCode, started: float) -> None:
    duration_ms = round((time.perf_counter() - started) * 1000, 3)
    level = "info" if code in _QUIET_CODES else "warning"
    # The job id was bound from the request, or by the servicer once known
    # (e.g. after SubmitJob created it); it is named here explicitly so the
    # line always carries it, whatever else the context holds.
    job_id = structlog.contextvars.get_contextvars().get("job_id")
    structlog.contextvars.unbind_contextvars("job_id")
    getattr(log, level)(
        "rpc", method=method_name, job_id=job_id, code=code.name, duration_ms=duration_ms
    )


_QUIET_CODES = frozenset(
    {
        grpc.StatusCode.OK,
        grpc.StatusCode.NOT_FOUND,
        grpc.StatusCode.INVALID_ARGUMENT,
        grpc.StatusCode.FAILED_PRECONDITION,
        grpc.StatusCode.CANCELLED,
        grpc.StatusCode.ALREADY_EXISTS,
    }
)


def default_interceptors(worker_token: str, api_token: str | None) -> list[AsyncServerInterceptor]:
    """Outermost first: log, authenticate, map errors."""
    return [
        RequestLogInterceptor(),
        TokenAuthInterceptor(worker_token, api_token),
        ErrorMappingInterceptor(),
    ]
