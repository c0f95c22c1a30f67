"""Plugins for worker tests, shaped like third-party ones.

``paced`` decodes the real video but takes ``FORGESYTE_TEST_FRAME_SECONDS``
per frame, so a test can act in the middle of a job (cancel it, kill its
worker). Its ``silent`` tool never calls the progress callback; ``explode``
raises part-way through. ``install_test_plugins`` makes them discoverable by
worker *processes* through a real entry point, as ``pip install`` would.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from services.worker.plugin_api import VIDEO_INPUT, PluginManifest, ToolManifest, ToolResult
from services.worker.plugins._frames import FrameAnalyser, analyse_video, iter_frames

FRAME_SECONDS_VARIABLE = "FORGESYTE_TEST_FRAME_SECONDS"
ROOT = Path(__file__).resolve().parents[2]


class _PacedAnalyser(FrameAnalyser):
    def __init__(self, seconds_per_frame: float) -> None:
        self._seconds = seconds_per_frame

    def analyse(self, frame_index: int, image: Any) -> list[dict[str, Any]]:
        time.sleep(self._seconds)
        return [{"label": "frame", "mean": float(image.mean())}]

    def summary(self) -> dict[str, Any]:
        return {"paced_seconds_per_frame": self._seconds}


class PacedPlugin:
    """Real decoding at a controlled pace, for tests that act mid-job."""

    def __init__(self, seconds_per_frame: float | None = None) -> None:
        configured = os.environ.get(FRAME_SECONDS_VARIABLE, "0.02")
        self._seconds = float(configured) if seconds_per_frame is None else seconds_per_frame

    @property
    def manifest(self) -> PluginManifest:
        def tool(tool_id: str, description: str) -> ToolManifest:
            return ToolManifest(tool_id, description, (VIDEO_INPUT,), "frames with a mean")

        return PluginManifest(
            id="paced",
            name="Paced",
            version="1.0",
            description="Test plugin: decodes slowly on purpose.",
            tools=(
                tool("slow_frames", "Decode each frame, then wait a moment."),
                tool("silent", "Decode every frame without reporting progress."),
                tool("explode", "Fail after three frames."),
            ),
        )

    def run_tool(self, tool_name: str, args: Mapping[str, Any]) -> ToolResult:
        if tool_name == "slow_frames":
            return analyse_video(args, _PacedAnalyser(self._seconds))
        if tool_name == "silent":
            frames = []
            for index, _ in iter_frames(str(args["video_path"])):
                time.sleep(self._seconds)
                frames.append({"frame_index": index, "detections": []})
            return {"frames": frames, "summary": {"total_frames": len(frames)}}
        if tool_name == "explode":
            for index, _ in iter_frames(str(args["video_path"])):
                if index == 3:
                    raise RuntimeError("the detector ran out of memory at frame 3")
            raise AssertionError("the test video is shorter than expected")
        raise KeyError(tool_name)


def install_test_plugins(directory: Path) -> dict[str, str]:
    """Make ``paced`` an installed plugin for processes started with the
    returned environment (a dist-info directory on PYTHONPATH)."""
    dist_info = directory / "forgesyte_test_plugins-1.0.dist-info"
    dist_info.mkdir(parents=True, exist_ok=True)
    (dist_info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: forgesyte-test-plugins\nVersion: 1.0\n"
    )
    (dist_info / "entry_points.txt").write_text(
        "[forgesyte.plugins]\npaced = tests.support.test_plugins:PacedPlugin\n"
    )
    path = os.pathsep.join([str(directory), str(ROOT), os.environ.get("PYTHONPATH", "")])
    return {"PYTHONPATH": path.rstrip(os.pathsep)}
