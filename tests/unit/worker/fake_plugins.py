"""Small third-party-style plugins, loaded through real entry points in the tests."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from services.worker.plugin_api import VIDEO_INPUT, PluginManifest, ToolManifest, ToolResult


def manifest(plugin_id: str, *tool_ids: str) -> PluginManifest:
    """A manifest with video tools of the given ids."""
    return PluginManifest(
        id=plugin_id,
        name=plugin_id.title(),
        version="1.2.3",
        description=f"The {plugin_id} test plugin.",
        tools=tuple(
            ToolManifest(
                id=tool_id,
                description=f"{tool_id} tool",
                input_types=(VIDEO_INPUT,),
                output_description="the arguments it was given",
            )
            for tool_id in tool_ids
        ),
    )


class EchoPlugin:
    """Records every call and returns the argument names it received."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    @property
    def manifest(self) -> PluginManifest:
        return manifest("echo", "echo", "count_to")

    def run_tool(self, tool_name: str, args: Mapping[str, Any]) -> ToolResult:
        self.calls.append((tool_name, dict(args)))
        if tool_name == "count_to":
            callback = args.get("progress_callback")
            for frame in range(1, int(args["frames"]) + 1):
                if callback is not None:
                    callback(frame, int(args["frames"]))
            return {"frames": [], "summary": {"total_frames": int(args["frames"])}}
        return {"frames": [], "summary": {"total_frames": 0, "args": sorted(args)}}


class LegacyPlugin:
    """Written before progress reporting: rejects any argument it does not know."""

    @property
    def manifest(self) -> PluginManifest:
        return manifest("legacy", "inspect")

    def run_tool(self, tool_name: str, args: Mapping[str, Any]) -> ToolResult:
        unexpected = set(args) - {"video_path"}
        if unexpected:
            raise TypeError(f"unexpected arguments: {sorted(unexpected)}")
        return {"frames": [], "summary": {"total_frames": 0, "inspected": args["video_path"]}}


class ListReturningPlugin:
    """Breaks the contract by returning a list instead of a dict."""

    @property
    def manifest(self) -> PluginManifest:
        return manifest("list_returning", "run")

    def run_tool(self, tool_name: str, args: Mapping[str, Any]) -> Any:
        return ["not", "a", "dict"]


class ExplodingPlugin:
    """Fails while being constructed, like a plugin with a missing dependency."""

    def __init__(self) -> None:
        raise ImportError("needs a package that is not installed")


class NotAPlugin:
    """Loads fine but has neither a manifest nor run_tool."""


NOT_CALLABLE = 42
