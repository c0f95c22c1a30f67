"""Pick or check a plugin tool against what ListPlugins says, before any upload.

The job API validates every submission itself; checking first on the
client is about the person waiting: a misspelt ``--tool`` is reported
before a large video is uploaded rather than after, and the message lists
what is available. (It also sidesteps a grpcio client issue, grpc/grpc#36066,
where a stream the server rejects early can surface as INTERNAL instead of
the server's own status.)
"""

from __future__ import annotations

from collections.abc import Sequence

from forgesyte.jobs.v1 import job_pb2

VIDEO_INPUT = "video"


class ToolNotFound(Exception):
    """No advertised tool matches; the message names what is available."""


def find_video_tool(
    plugins: Sequence[job_pb2.PluginManifest], plugin: str | None, tool: str | None
) -> tuple[str, str]:
    """The ``(plugin, tool)`` to run: the one asked for, or the first that takes video.

    ``plugin``/``tool`` of None mean "any"; the answer always accepts video.
    """
    if plugin is not None:
        manifest = next((m for m in plugins if m.id == plugin), None)
        if manifest is None:
            known = ", ".join(m.id for m in plugins) or "none (no worker has advertised any yet)"
            raise ToolNotFound(f"unknown plugin {plugin!r}; available plugins: {known}")
        candidates = [manifest]
    else:
        candidates = list(plugins)
    for manifest in candidates:
        for entry in manifest.tools:
            if tool is not None and entry.id != tool:
                continue
            if VIDEO_INPUT in entry.input_types:
                return manifest.id, entry.id
            if tool is not None and plugin is not None:
                accepted = ", ".join(entry.input_types) or "nothing"
                raise ToolNotFound(
                    f"tool {plugin}/{tool} does not accept video input (accepts: {accepted})"
                )
    if plugin is not None and tool is not None:
        known = ", ".join(t.id for t in candidates[0].tools) or "none"
        raise ToolNotFound(f"plugin {plugin!r} has no tool {tool!r}; available tools: {known}")
    wanted = f"tool {tool!r}" if tool else (f"plugin {plugin!r}" if plugin else "any plugin")
    known = ", ".join(f"{m.id}/{t.id}" for m in plugins for t in m.tools) or "none"
    raise ToolNotFound(f"no video tool found for {wanted} (advertised: {known})")
