"""The optional API token (``FORGESYTE_API_TOKEN``) at the HTTP door.

When a token is configured, every route needs ``Authorization: Bearer
<token>`` except the probes (``/healthz``, ``/readyz``), the web UI's
static files and CORS preflights (``OPTIONS``), which hold no data. The
header is also passed on to the job API, which checks the same token on its
public RPCs: the gateway holds no credentials of its own.
"""

from __future__ import annotations

import hmac
from typing import Final

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from services.gateway.errors import ApiError, default_detail
from services.gateway.job_client import Metadata

PUBLIC_PATHS: Final = frozenset({"/", "/healthz", "/readyz", "/favicon.ico"})
STATIC_PREFIX: Final = "/static/"


def is_public(path: str) -> bool:
    return path in PUBLIC_PATHS or path.startswith(STATIC_PREFIX)


def bearer_token(header: str | None) -> str | None:
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def forwarded_metadata(request: web.Request) -> Metadata:
    """The caller's credentials, as gRPC metadata for the job API."""
    header = request.headers.get("Authorization")
    return (("authorization", header),) if header else ()


def token_middleware(api_token: str) -> Middleware:
    """Refuse requests without the right bearer token (401), in constant time."""
    expected = api_token.encode()

    @web.middleware
    async def check_token(request: web.Request, handler: Handler) -> web.StreamResponse:
        # A CORS preflight (OPTIONS) never carries credentials and returns no data.
        if request.method != "OPTIONS" and not is_public(request.path):
            presented = bearer_token(request.headers.get("Authorization"))
            if presented is None or not hmac.compare_digest(presented.encode(), expected):
                raise ApiError(401, default_detail(401), {"WWW-Authenticate": "Bearer"})
        return await handler(request)

    return check_token
