"""The REST routes: each handler checks its input, makes its job API call(s)
and shapes the answer. Failures are raised and turned into JSON by the
middleware; nothing here builds an error body.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Final

import structlog
from aiohttp import web

from services.common.manifests import manifest_to_dict
from services.gateway import params
from services.gateway.auth import forwarded_metadata
from services.gateway.errors import ApiError
from services.gateway.job_client import JobApiClient
from services.gateway.options import GatewayOptions
from services.gateway.results import open_results, read_document, stream_enveloped
from services.gateway.sse import stream_job_events
from services.gateway.status_cache import StatusCache
from services.gateway.upload import UploadLimits, submit_upload
from services.gateway.views import job_view, status_name, status_view, timestamp
from services.gateway.watch import follow_job

log = structlog.get_logger("forgesyte.gateway")

CLIENT: Final = web.AppKey("client", JobApiClient)
OPTIONS: Final = web.AppKey("options", GatewayOptions)
# Job snapshots for the polling routes (status, job, results envelope).
STATUS_CACHE: Final = web.AppKey("status_cache", StatusCache)
# Set when the gateway begins to shut down, so open event streams end.
STOPPING: Final = web.AppKey("stopping", asyncio.Event)
OPENAPI: Final = web.AppKey("openapi", bytes)

STATIC_DIR: Final = Path(__file__).resolve().parent / "static"
_NO_CACHE: Final = {"Cache-Control": "no-cache"}


async def submit_video(request: web.Request) -> web.Response:
    query = request.query
    tools = query.getall("tool", [])
    if len(tools) > 1:
        raise ApiError(400, "Give one tool per job (the 'tool' parameter was repeated)")
    plugin_id = params.required(query, "plugin_id")
    tool = params.required(query, "tool")
    options = request.app[OPTIONS]
    job = await submit_upload(
        request,
        request.app[CLIENT],
        forwarded_metadata(request),
        plugin_id=plugin_id,
        tool=tool,
        limits=UploadLimits(
            max_upload_bytes=options.max_upload_bytes,
            chunk_bytes=options.upload_chunk_bytes,
            idle_seconds=options.upload_idle_seconds,
            finish_timeout_seconds=options.call_timeout_seconds,
        ),
    )
    log.info("job submitted", job_id=job.job_id, plugin_id=plugin_id, tool=tool)
    return web.json_response({"job_id": job.job_id})


async def video_status(request: web.Request) -> web.Response:
    job_id = params.job_id(request.match_info["job_id"])
    job = await request.app[STATUS_CACHE].get(job_id, forwarded_metadata(request))
    return web.json_response(status_view(job))


async def video_results(request: web.Request) -> web.StreamResponse:
    job_id = params.job_id(request.match_info["job_id"])
    client = request.app[CLIENT]
    metadata = forwarded_metadata(request)
    job = await request.app[STATUS_CACHE].get(job_id, metadata)
    results = await open_results(client, job_id, metadata, client.call_timeout_seconds)
    envelope = {
        "job_id": job.job_id,
        "created_at": timestamp(job, "created_at"),
        "updated_at": timestamp(job, "updated_at"),
    }
    return await stream_enveloped(request, results, envelope, "results")


async def get_job(request: web.Request) -> web.Response:
    job_id = params.job_id(request.match_info["job_id"])
    client = request.app[CLIENT]
    metadata = forwarded_metadata(request)
    job = await request.app[STATUS_CACHE].get(job_id, metadata)
    view = job_view(job)
    view["results"] = None
    view["results_url"] = None
    if status_name(job) == "completed":
        view["results_url"] = f"/v1/video/results/{job_id}"
        results = await open_results(client, job_id, metadata, client.call_timeout_seconds)
        view["results"] = await read_document(results)
    return web.json_response(view)


async def list_jobs(request: web.Request) -> web.Response:
    query = request.query
    page = await request.app[CLIENT].list_jobs(
        page_size=params.page_size(query),
        page_token=params.page_token(query),
        status=params.status_filter(query),
        metadata=forwarded_metadata(request),
    )
    jobs = [job_view(job) for job in page.jobs]
    return web.json_response(
        {"jobs": jobs, "count": len(jobs), "next_page_token": page.next_page_token or None}
    )


async def cancel_job(request: web.Request) -> web.Response:
    job_id = params.job_id(request.match_info["job_id"])
    job = await request.app[CLIENT].cancel(job_id, forwarded_metadata(request))
    request.app[STATUS_CACHE].offer(job)  # the canceller's next poll sees its cancel
    log.info("cancellation requested", job_id=job_id, status=status_name(job))
    return web.json_response(job_view(job))


async def job_events(request: web.Request) -> web.StreamResponse:
    job_id = params.job_id(request.match_info["job_id"])
    options = request.app[OPTIONS]
    snapshots = follow_job(
        request.app[CLIENT],
        job_id,
        forwarded_metadata(request),
        resume_seconds=options.watch_resume_seconds,
    )
    return await stream_job_events(
        request,
        snapshots,
        last_event_id=params.last_event_id(request.headers.get("Last-Event-ID")),
        keepalive_seconds=options.keepalive_seconds,
        first_timeout_seconds=options.call_timeout_seconds,
        stopping=request.app[STOPPING],
    )


async def list_plugins(request: web.Request) -> web.Response:
    plugins = await request.app[CLIENT].list_plugins(forwarded_metadata(request))
    return web.json_response(
        {"plugins": [manifest_to_dict(p) for p in plugins], "count": len(plugins)}
    )


async def plugin_manifest(request: web.Request) -> web.Response:
    plugin_id = request.match_info["plugin_id"]
    plugins = await request.app[CLIENT].list_plugins(forwarded_metadata(request))
    for plugin in plugins:
        if plugin.id == plugin_id:
            return web.json_response(manifest_to_dict(plugin))
    raise ApiError(404, f"Plugin {plugin_id[:64]!r} not found")


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    if await request.app[CLIENT].serving():
        return web.json_response({"status": "ready"})
    raise ApiError(503, "The job API is not reachable", {"Retry-After": "1"})


async def openapi(request: web.Request) -> web.Response:
    return web.Response(body=request.app[OPENAPI], content_type="application/json")


async def index(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC_DIR / "index.html", headers=_NO_CACHE)


def add_routes(app: web.Application) -> None:
    """Register every route; ``openapi.py`` describes the same list."""
    app.router.add_post("/v1/video/submit", submit_video)
    app.router.add_get("/v1/video/status/{job_id}", video_status, allow_head=False)
    app.router.add_get("/v1/video/results/{job_id}", video_results, allow_head=False)
    app.router.add_get("/v1/jobs", list_jobs, allow_head=False)
    app.router.add_get("/v1/jobs/{job_id}", get_job, allow_head=False)
    app.router.add_delete("/v1/jobs/{job_id}", cancel_job)
    app.router.add_get("/v1/jobs/{job_id}/events", job_events, allow_head=False)
    app.router.add_get("/v1/plugins", list_plugins, allow_head=False)
    app.router.add_get("/v1/plugins/{plugin_id}/manifest", plugin_manifest, allow_head=False)
    app.router.add_get("/healthz", healthz, allow_head=False)
    app.router.add_get("/readyz", readyz, allow_head=False)
    app.router.add_get("/openapi.json", openapi, allow_head=False)
    app.router.add_get("/", index, allow_head=False)
    app.router.add_static("/static/", STATIC_DIR, append_version=False)
