"""Validation of what a submission asks for, before any byte is stored.

Pure functions: the header's fields, and the plugin/tool against the
manifests workers advertised. Errors name what is allowed, so a person can
fix the request without reading code.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import PurePosixPath, PureWindowsPath

from services.job_api.domain import NewJob, PluginManifest
from services.job_api.errors import InvalidArgument

VIDEO = "video"
SUPPORTED_JOB_TYPES = (VIDEO,)
MAX_ID_LENGTH = 128
MAX_FILENAME_LENGTH = 255
_IDENTIFIER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")


def validate_new_job(
    plugin_id: str, tool: str, job_type: str, original_filename: str, request_id: str | None
) -> NewJob:
    """Check the header's fields; returns them normalised."""
    _require_identifier("plugin_id", plugin_id)
    _require_identifier("tool", tool)
    job_type = job_type or VIDEO
    if job_type not in SUPPORTED_JOB_TYPES:
        raise InvalidArgument(
            f"job_type {job_type!r} is not supported; use one of: {', '.join(SUPPORTED_JOB_TYPES)}"
        )
    if request_id is not None and not 0 < len(request_id) <= MAX_ID_LENGTH:
        raise InvalidArgument(f"request_id must be 1 to {MAX_ID_LENGTH} characters long")
    return NewJob(
        plugin_id=plugin_id,
        tool=tool,
        job_type=job_type,
        original_filename=display_filename(original_filename),
        request_id=request_id,
    )


def display_filename(name: str) -> str:
    """The last path component of a client's file name, safe to display.

    It is only ever shown, never used as a path; stripping directories and
    control characters keeps "../../etc/passwd" from even looking like one.
    """
    base = PurePosixPath(PureWindowsPath(name).name).name
    base = _CONTROL_CHARACTERS.sub("", base).strip()
    if base in {"", ".", ".."}:
        return "upload"
    return base[:MAX_FILENAME_LENGTH]


def validate_plugin_tool(new: NewJob, plugins: Sequence[PluginManifest]) -> None:
    """The plugin and tool must be known and the tool must take video input."""
    plugin = next((p for p in plugins if p.id == new.plugin_id), None)
    if plugin is None:
        available = ", ".join(p.id for p in plugins) or "none (no worker has advertised any yet)"
        raise InvalidArgument(f"unknown plugin {new.plugin_id!r}; available plugins: {available}")
    tool = plugin.tool(new.tool)
    if tool is None:
        available = ", ".join(t.id for t in plugin.tools) or "none"
        raise InvalidArgument(
            f"plugin {plugin.id!r} has no tool {new.tool!r}; available tools: {available}"
        )
    if new.job_type not in tool.input_types:
        accepted = ", ".join(tool.input_types) or "nothing"
        raise InvalidArgument(
            f"tool {plugin.id}/{tool.id} does not accept {new.job_type} input (accepts: {accepted})"
        )


def same_submission(a: NewJob, b: NewJob) -> bool:
    """Whether a retried request asks for what the original did."""
    return (a.plugin_id, a.tool, a.job_type) == (b.plugin_id, b.tool, b.job_type)


def _require_identifier(field: str, value: str) -> None:
    if not value:
        raise InvalidArgument(f"{field} is required")
    if len(value) > MAX_ID_LENGTH or not _IDENTIFIER.match(value):
        raise InvalidArgument(
            f"{field} {value[:MAX_ID_LENGTH]!r} is not valid: use letters, digits, '_', '-' or '.'"
        )
