"""Cross-origin calls from web UIs served elsewhere (``FORGESYTE_CORS_ORIGINS``).

The bundled web UI comes from the gateway itself, so it needs nothing here.
ForgeSyte's own React UI, though, runs on an origin of its own (a dev
server, a CDN) and calls the REST API from the browser, which lets a page
read another origin's answers only when the answers say it may. With no
origins configured the gateway sends no CORS headers at all, and browsers
keep other origins out.

aiohttp-cors answers the preflight requests and adds the headers to every
answer of the API routes, errors and event streams included. Credentials
travel as a bearer token in ``Authorization`` (allowed here), never as
cookies, so ``allow_credentials`` stays off and ``*`` is a usable setting.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import aiohttp_cors
from aiohttp import web

ALLOWED_REQUEST_HEADERS: Final = ("Authorization", "Content-Type", "Last-Event-ID")
# Readable by the calling page besides the always-safe ones.
EXPOSED_RESPONSE_HEADERS: Final = ("Retry-After", "WWW-Authenticate")
# How long a browser may reuse a preflight answer.
PREFLIGHT_MAX_AGE_SECONDS: Final = 600


def is_api_path(path: str) -> bool:
    """The routes with data; the UI's page and static files stay same-origin."""
    return path.startswith("/v1/") or path in {"/openapi.json", "/healthz", "/readyz"}


def allow_origins(app: web.Application, origins: Sequence[str]) -> None:
    """Let pages from ``origins`` (or any, with ``"*"``) call the API routes.
    Call it after every route is added."""
    if not origins:
        return
    options = aiohttp_cors.ResourceOptions(  # type: ignore[no-untyped-call]  # untyped library
        allow_credentials=False,
        allow_headers=ALLOWED_REQUEST_HEADERS,
        expose_headers=EXPOSED_RESPONSE_HEADERS,
        max_age=PREFLIGHT_MAX_AGE_SECONDS,
    )
    cors = aiohttp_cors.setup(app, defaults=dict.fromkeys(origins, options))
    for route in list(app.router.routes()):
        if route.resource is not None and is_api_path(route.resource.canonical):
            cors.add(route)
    app.on_response_prepare.append(_vary_on_origin)


async def _vary_on_origin(request: web.Request, response: web.StreamResponse) -> None:
    """The allowed origin is echoed back (even for ``*``), so an answer differs
    by ``Origin`` and a shared cache must keep them apart."""
    if is_api_path(request.path):
        response.headers.add("Vary", "Origin")
