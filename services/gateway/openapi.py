"""The OpenAPI 3.1 description served at ``/openapi.json``.

Written by hand, next to the routes, because the gateway has no framework
that would derive it; a test checks that it is a valid document and that it
lists exactly the routes the application serves, with their methods.
"""

from __future__ import annotations

from typing import Any, Final

from services.common.job_fields import STATUS_NAMES

Json = dict[str, Any]

_ERROR_STATUSES: Final[dict[str, str]] = {
    "400": "Malformed input (e.g. a job id that is not a UUID), or a state that does not allow it",
    "401": "FORGESYTE_API_TOKEN is set and the bearer token is missing or wrong",
    "403": "Not allowed",
    "404": 'Unknown job ({"detail": "Job not found"}) or plugin',
    "408": "The upload stalled",
    "413": "The upload is larger than FORGESYTE_MAX_UPLOAD_BYTES; nothing was stored",
    "415": "The upload is not multipart/form-data",
    "429": "The job API is overloaded; retry shortly",
    "502": "The job API failed",
    "503": "The job API is unavailable (e.g. restarting); retry shortly",
    "504": "The job API did not answer in time",
}
_COMMON_ERRORS: Final = ("401", "429", "502", "503", "504")
# Polls are answered from the gateway's status cache (status_cache.py).
POLLING_NOTE: Final = (
    "Poll as often as you like: after the first poll of a job, the gateway answers "
    "from the changes the job API pushes to it. An answer trails a change by about "
    "a millisecond (5 s at most, should the pushes stop unnoticed), and a cancel "
    "made through the gateway shows at once."
)


# The job API's rule for plugin and tool ids (services.job_api.submission).
_IDENTIFIER: Json = {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9_.-]*$", "maxLength": 128}


def _ref(name: str) -> Json:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: Json, description: str) -> Json:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*statuses: str) -> Json:
    return {status: {"$ref": f"#/components/responses/E{status}"} for status in statuses}


def _job_id_param() -> Json:
    return {
        "name": "job_id",
        "in": "path",
        "required": True,
        "schema": {"type": "string", "format": "uuid"},
    }


def _ok(schema: Json, description: str) -> Json:
    return {"200": _json(schema, description)}


def _operation(operation_id: str, summary: str, ok: Json, *errors: str, **extra: Any) -> Json:
    """An operation with its success responses ``ok`` and the listed error bodies."""
    responses = {**ok, **_errors(*errors, *_COMMON_ERRORS)}
    return {"operationId": operation_id, "summary": summary, "responses": responses, **extra}


def _nullable(type_name: str, **extra: Any) -> Json:
    return {"type": [type_name, "null"], **extra}


def _schemas() -> Json:
    timestamp = {"type": "string", "format": "date-time"}
    status_properties: Json = {
        "job_id": {"type": "string", "format": "uuid"},
        "status": {"type": "string", "enum": list(STATUS_NAMES.values())},
        "progress": _nullable(
            "integer",
            minimum=0,
            maximum=100,
            description="Percent done; null when there is no progress data (never 0 "
            "for unknown). At most 99 while running, 100 once completed.",
        ),
        "created_at": timestamp,
        "updated_at": timestamp,
    }
    status_view = {
        "type": "object",
        "required": list(status_properties),
        "properties": status_properties,
    }
    job_properties = {
        **status_properties,
        "plugin_id": {"type": "string"},
        "tool": {"type": "string"},
        "job_type": {"type": "string"},
        "original_filename": {"type": "string"},
        "input_size_bytes": {"type": "integer", "minimum": 0},
        "attempt": {"type": "integer", "minimum": 0},
        "max_attempts": {"type": "integer", "minimum": 0},
        "current_frame": _nullable("integer", minimum=0),
        "total_frames": _nullable("integer", minimum=0),
        "error_message": _nullable("string"),
        "cancel_requested": {"type": "boolean"},
        "started_at": _nullable("string", format="date-time"),
        "finished_at": _nullable("string", format="date-time"),
        "version": {
            "type": "integer",
            "description": "Grows by one per visible change; the SSE event id.",
        },
        "eta_seconds": _nullable(
            "number",
            minimum=0,
            description="Estimated seconds left while running, from the pace so far; "
            "null when it cannot be estimated.",
        ),
    }
    job = {"type": "object", "required": list(job_properties), "properties": job_properties}
    detail_properties = {
        **job_properties,
        "results": {
            "description": "The results document once completed (null otherwise, or "
            "when it is too large to embed: fetch results_url instead)."
        },
        "results_url": _nullable("string"),
    }
    tool = {
        "type": "object",
        "required": ["id", "description", "input_types", "output_description"],
        "properties": {
            "id": {"type": "string"},
            "description": {"type": "string"},
            "input_types": {"type": "array", "items": {"type": "string"}},
            "output_description": {"type": "string"},
        },
    }
    plugin = {
        "type": "object",
        "required": ["id", "name", "version", "description", "tools"],
        "properties": {
            "id": {"type": "string"},
            "name": {"type": "string"},
            "version": {"type": "string"},
            "description": {"type": "string"},
            "tools": {"type": "array", "items": _ref("Tool")},
        },
    }
    return {
        "Error": {
            "type": "object",
            "required": ["detail"],
            "properties": {"detail": {"type": "string"}},
        },
        "JobStatus": status_view,
        "Job": job,
        "JobDetail": {
            "type": "object",
            "required": [*job_properties, "results", "results_url"],
            "properties": detail_properties,
        },
        "JobList": {
            "type": "object",
            "required": ["jobs", "count", "next_page_token"],
            "properties": {
                "jobs": {"type": "array", "items": _ref("Job")},
                "count": {"type": "integer", "minimum": 0},
                "next_page_token": _nullable(
                    "string", description="Pass as page_token for the next page; null at the end."
                ),
            },
        },
        "JobResults": {
            "type": "object",
            "required": ["job_id", "created_at", "updated_at", "results"],
            "properties": {
                "job_id": {"type": "string", "format": "uuid"},
                "created_at": timestamp,
                "updated_at": timestamp,
                "results": {"description": "The document the plugin tool produced."},
            },
        },
        "Submitted": {
            "type": "object",
            "required": ["job_id"],
            "properties": {"job_id": {"type": "string", "format": "uuid"}},
        },
        "Tool": tool,
        "Plugin": plugin,
        "PluginList": {
            "type": "object",
            "required": ["plugins", "count"],
            "properties": {
                "plugins": {"type": "array", "items": _ref("Plugin")},
                "count": {"type": "integer", "minimum": 0},
            },
        },
        "Health": {
            "type": "object",
            "required": ["status"],
            "properties": {"status": {"type": "string"}},
        },
    }


def _paths() -> Json:
    job_id = _job_id_param()
    return {
        "/v1/video/submit": {
            "post": _operation(
                "submitVideo",
                "Upload a video and create a job (streamed to the job API)",
                _ok(_ref("Submitted"), "The new job"),
                "400",
                "408",
                "413",
                "415",
                parameters=[
                    {
                        "name": "plugin_id",
                        "in": "query",
                        "required": True,
                        "description": "A plugin listed by GET /v1/plugins.",
                        "schema": _IDENTIFIER,
                    },
                    {
                        "name": "tool",
                        "in": "query",
                        "required": True,
                        "description": "A video tool of that plugin.",
                        "schema": _IDENTIFIER,
                    },
                ],
                requestBody={
                    "required": True,
                    "content": {
                        "multipart/form-data": {
                            "schema": {
                                "type": "object",
                                "required": ["file"],
                                "properties": {
                                    "file": {
                                        "type": "string",
                                        "contentMediaType": "application/octet-stream",
                                    }
                                },
                            }
                        }
                    },
                },
            )
        },
        "/v1/video/status/{job_id}": {
            "get": _operation(
                "getVideoStatus",
                "A job's status and progress (ForgeSyte's shape)",
                _ok(_ref("JobStatus"), "The job's status"),
                "400",
                "404",
                parameters=[job_id],
                description=POLLING_NOTE,
            )
        },
        "/v1/video/results/{job_id}": {
            "get": _operation(
                "getVideoResults",
                "A completed job's results (400 until the job completed)",
                _ok(_ref("JobResults"), "The results"),
                "400",
                "404",
                parameters=[job_id],
            )
        },
        "/v1/jobs": {
            "get": _operation(
                "listJobs",
                "Jobs, newest first, one page at a time",
                _ok(_ref("JobList"), "One page of jobs"),
                "400",
                parameters=[
                    {
                        "name": "page_size",
                        "in": "query",
                        "description": "0 or absent means 50; at most 1000 (`limit` works too).",
                        "schema": {"type": "integer", "minimum": 0},
                    },
                    {"name": "page_token", "in": "query", "schema": {"type": "string"}},
                    {
                        "name": "status",
                        "in": "query",
                        "schema": {"type": "string", "enum": list(STATUS_NAMES.values())},
                    },
                ],
            )
        },
        "/v1/jobs/{job_id}": {
            "get": _operation(
                "getJob",
                "A job with every detail, an ETA while running, and results once completed",
                _ok(_ref("JobDetail"), "The job"),
                "400",
                "404",
                parameters=[job_id],
                description=POLLING_NOTE,
            ),
            "delete": _operation(
                "cancelJob",
                "Cancel a job (pending: at once; running: when its worker stops)",
                _ok(_ref("Job"), "The job after the request"),
                "400",
                "404",
                parameters=[job_id],
            ),
        },
        "/v1/jobs/{job_id}/events": {
            "get": _operation(
                "watchJob",
                "Server-Sent Events: the current snapshot, then one `job` event per change "
                "(id = version), `: keep-alive` comments, closed after the terminal state",
                {
                    "200": {
                        "description": "An event stream; each `data` is a Job object",
                        "content": {"text/event-stream": {"schema": {"type": "string"}}},
                    },
                    "204": {"description": "Last-Event-ID already covers the terminal state"},
                },
                "400",
                "404",
                parameters=[
                    job_id,
                    {
                        "name": "Last-Event-ID",
                        "in": "header",
                        "required": False,
                        "description": "Resume: only snapshots with a newer version are sent.",
                        "schema": {"type": "string"},
                    },
                ],
            )
        },
        "/v1/plugins": {
            "get": _operation(
                "listPlugins",
                "Plugins and tools the workers offer",
                _ok(_ref("PluginList"), "The plugins"),
            )
        },
        "/v1/plugins/{plugin_id}/manifest": {
            "get": _operation(
                "getPluginManifest",
                "One plugin's manifest (ForgeSyte's tool discovery)",
                _ok(_ref("Plugin"), "The manifest"),
                "404",
                parameters=[
                    {
                        "name": "plugin_id",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string"},
                    }
                ],
            )
        },
        "/healthz": {
            "get": {
                "operationId": "healthz",
                "summary": "The gateway process is alive (no token needed)",
                "security": [],
                "responses": {"200": _json(_ref("Health"), "Alive")},
            }
        },
        "/readyz": {
            "get": {
                "operationId": "readyz",
                "summary": "The job API answers its gRPC health check (no token needed)",
                "security": [],
                "responses": {
                    "200": _json(_ref("Health"), "Ready"),
                    "503": {"$ref": "#/components/responses/E503"},
                },
            }
        },
        "/openapi.json": {
            "get": _operation(
                "openapi",
                "This document",
                _ok({"type": "object"}, "The OpenAPI description"),
            )
        },
        "/": {
            "get": {
                "operationId": "webUi",
                "summary": "The web UI (no token needed)",
                "security": [],
                "responses": {
                    "200": {
                        "description": "HTML",
                        "content": {"text/html": {"schema": {"type": "string"}}},
                    }
                },
            }
        },
    }


def build_spec(version: str) -> Json:
    """The whole document."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "ForgeSyte gateway",
            "version": version,
            "description": "REST and Server-Sent Events over the ForgeSyte job API. Every "
            'error is JSON {"detail": "..."}. When FORGESYTE_API_TOKEN is set, every route '
            "except /healthz, /readyz and the web UI needs 'Authorization: Bearer <token>'.",
        },
        "security": [{}, {"bearerAuth": []}],
        "paths": _paths(),
        "components": {
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
            "schemas": _schemas(),
            "responses": {
                f"E{status}": _json(_ref("Error"), description)
                for status, description in _ERROR_STATUSES.items()
            },
        },
    }
