"""Every response passes here: failures become ``{"detail": ...}`` JSON, and
each request leaves one structured access-log line with its ``job_id``.

Handlers raise ``ApiError`` for what they detect, let ``AioRpcError`` from
the job API propagate, and never build error bodies themselves. Anything
unexpected is logged with its traceback and answered with a plain 500.
"""

from __future__ import annotations

import logging
import time
from typing import Final

import grpc
import structlog
from aiohttp import web
from aiohttp.typedefs import Handler

from services.gateway.errors import ApiError, default_detail, from_rpc_error

log = structlog.get_logger("forgesyte.gateway")
_ACCESS_LOGGER_NAME: Final = "forgesyte.gateway.access"
access_log = structlog.get_logger(_ACCESS_LOGGER_NAME)
# Checked before building an access line: structlog runs its processors
# before the standard library drops a filtered record.
_access_enabled = logging.getLogger(_ACCESS_LOGGER_NAME).isEnabledFor


def error_response(error: ApiError) -> web.Response:
    return web.json_response({"detail": error.detail}, status=error.status, headers=error.headers)


def _from_http_exception(error: web.HTTPException) -> ApiError:
    headers = {"Allow": error.headers["Allow"]} if "Allow" in error.headers else {}
    return ApiError(error.status, default_detail(error.status), headers)


@web.middleware
async def error_and_access_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    started = time.perf_counter()
    response: web.StreamResponse
    try:
        response = await handler(request)
    except ApiError as error:
        response = error_response(error)
    except grpc.aio.AioRpcError as error:
        response = error_response(from_rpc_error(error))
    except web.HTTPException as error:
        if error.status < 400:
            raise
        response = error_response(_from_http_exception(error))
    except Exception:
        log.exception("unexpected error", method=request.method, path=request.path)
        response = error_response(ApiError(500, default_detail(500)))
    if _access_enabled(logging.INFO):
        access_log.info(
            "http",
            method=request.method,
            path=request.path,
            status=response.status,
            job_id=request.match_info.get("job_id"),
            duration_ms=round((time.perf_counter() - started) * 1000, 3),
        )
    return response
