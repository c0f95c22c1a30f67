"""What the built-in plugins share: tool dispatch, options and their version.

A built-in plugin is a manifest plus, per tool, a factory that builds a fresh
:class:`~services.worker.plugins._frames.FrameAnalyser` from the tool's
options. Running a tool is then always the same shared frame loop, so the
plugins contain nothing but their analysis. All per-run state lives in the
analyser, so one plugin instance can serve several jobs at once (the worker's
``--concurrency``), each in its own thread.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from services.worker.plugin_api import (
    VIDEO_INPUT,
    PluginManifest,
    ToolArgumentError,
    ToolManifest,
    ToolResult,
    UnknownTool,
)
from services.worker.plugins._frames import FrameAnalyser, analyse_video

AnalyserFactory = Callable[[Mapping[str, Any]], FrameAnalyser]
"""Builds the analyser for one run from the tool's arguments (options included)."""

FRAMES_OUTPUT_DESCRIPTION = (
    '{"frames": [{"frame_index": i, "detections": [...]}], "summary": {"total_frames": n, ...}}'
)


def builtin_plugin_version() -> str:
    """Built-in plugins are versioned with the ForgeSyte package that ships them."""
    try:
        return version("forgesyte")
    except PackageNotFoundError:
        return "0+unknown"


@dataclass(frozen=True)
class BuiltinTool:
    """One tool of a built-in plugin: its manifest and how to build its analyser."""

    id: str
    description: str
    output_description: str
    make_analyser: AnalyserFactory

    def to_manifest(self) -> ToolManifest:
        """The tool's manifest; every built-in tool takes video."""
        return ToolManifest(
            id=self.id,
            description=self.description,
            input_types=(VIDEO_INPUT,),
            output_description=self.output_description,
        )


class BuiltinPlugin:
    """Base class: a manifest and ``run_tool`` dispatching to per-tool analysers."""

    def __init__(
        self, *, plugin_id: str, name: str, description: str, tools: Sequence[BuiltinTool]
    ) -> None:
        self._tools = {tool.id: tool for tool in tools}
        self._manifest = PluginManifest(
            id=plugin_id,
            name=name,
            version=builtin_plugin_version(),
            description=description,
            tools=tuple(tool.to_manifest() for tool in tools),
        )

    @property
    def manifest(self) -> PluginManifest:
        """The plugin's manifest, as advertised to the job API."""
        return self._manifest

    def run_tool(self, tool_name: str, args: Mapping[str, Any]) -> ToolResult:
        """Run one tool over the video at ``args["video_path"]``."""
        tool = self._tools.get(tool_name)
        if tool is None:
            raise UnknownTool(self._manifest.id, tool_name, self._tools)
        return analyse_video(args, tool.make_analyser(args))


def float_option(
    args: Mapping[str, Any], name: str, default: float, *, minimum: float, maximum: float
) -> float:
    """A numeric tool option within ``[minimum, maximum]``, or its default when absent."""
    value = args.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ToolArgumentError(f"option {name!r} must be a number")
    if not minimum <= value <= maximum:
        raise ToolArgumentError(f"option {name!r} must be between {minimum} and {maximum}")
    return float(value)


def int_option(
    args: Mapping[str, Any], name: str, default: int, *, minimum: int, maximum: int
) -> int:
    """An integer tool option within ``[minimum, maximum]``, or its default when absent."""
    value = args.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ToolArgumentError(f"option {name!r} must be an integer")
    if not minimum <= value <= maximum:
        raise ToolArgumentError(f"option {name!r} must be between {minimum} and {maximum}")
    return value
