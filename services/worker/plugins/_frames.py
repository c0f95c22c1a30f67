"""The one frame loop every built-in video tool runs on.

Tools differ only in what they look for in a frame, so everything else lives
here once: reading ``args``, opening the file, decoding frame by frame,
calling ``progress_callback(current_frame, total_frames)`` after each frame,
refusing files that yield no frame, and building ForgeSyte's result shape::

    {"frames": [{"frame_index": i, "detections": [...]}, ...],
     "summary": {"total_frames": n, ...}}

``frames`` has one entry per decoded frame (``frame_index`` is 0-based and
equals the entry's position), and ``summary.total_frames`` counts the frames
actually decoded, so a truncated file reports how far it really went.

Analysis usually runs on a shrunken copy of each frame (:func:`shrink_to_width`,
nearest-neighbour, the cheapest resize): decoding is the unavoidable cost, and
keeping per-frame analysis small next to it is what lets the cheapest tool run
at almost the speed of a bare decode loop.
"""

from __future__ import annotations

import os
from collections.abc import Generator, Mapping
from contextlib import closing
from dataclasses import dataclass
from typing import Any, Protocol

import cv2
from cv2.typing import MatLike

from services.worker.frame_count import UnreadableVideo, estimate_frame_count, open_video
from services.worker.plugin_api import ProgressCallback, ToolArgumentError, ToolResult

Image = MatLike
"""A decoded frame: height x width x 3, 8-bit BGR, as OpenCV returns it."""

Detection = dict[str, Any]
"""One finding in a frame: ``{"label": str, "bbox": [x1, y1, x2, y2], ...}``."""


class FrameAnalyser(Protocol):
    """The per-tool part: look at frames in order, then summarise what was seen."""

    def analyse(self, frame_index: int, image: Image) -> list[Detection]:
        """Findings in one frame (0-based index), in original-frame pixel coordinates."""
        ...

    def summary(self) -> dict[str, Any]:
        """Tool-specific summary fields, merged next to ``total_frames``."""
        ...


@dataclass(frozen=True)
class VideoToolArgs:
    """The arguments every built-in video tool understands."""

    video_path: str
    progress_callback: ProgressCallback | None
    total_frames: int | None
    """The worker's frame estimate, if it passed one; saves counting twice."""


def parse_video_args(args: Mapping[str, Any]) -> VideoToolArgs:
    """Validate the common arguments; :class:`ToolArgumentError` says which is wrong."""
    video_path = args.get("video_path")
    if not isinstance(video_path, str | os.PathLike) or not os.fspath(video_path):
        raise ToolArgumentError("argument 'video_path' must be a path to a video file")
    callback = args.get("progress_callback")
    if callback is not None and not callable(callback):
        raise ToolArgumentError("argument 'progress_callback' must be callable")
    total = args.get("total_frames")
    if total is not None and (isinstance(total, bool) or not isinstance(total, int) or total < 1):
        raise ToolArgumentError("argument 'total_frames' must be a positive integer")
    return VideoToolArgs(os.fspath(video_path), callback, total)


def analyse_video(args: Mapping[str, Any], analyser: FrameAnalyser) -> ToolResult:
    """Run ``analyser`` over every decodable frame and build the tool result.

    Raises :class:`UnreadableVideo` when the file cannot be opened or yields
    no frame. Whatever ``progress_callback`` raises (notably ``JobCancelled``)
    propagates at once, so a cancelled tool stops at its next frame.
    """
    parsed = parse_video_args(args)
    total = parsed.total_frames
    if parsed.progress_callback is not None and total is None:
        total = estimate_frame_count(parsed.video_path).frames
    frames: list[dict[str, Any]] = []
    # closing(): release the capture as soon as the loop ends, even when a
    # cancellation is still propagating with this frame in its traceback.
    with closing(iter_frames(parsed.video_path)) as decoded:
        for frame_index, image in decoded:
            frames.append(
                {"frame_index": frame_index, "detections": analyser.analyse(frame_index, image)}
            )
            if parsed.progress_callback is not None and total is not None:
                parsed.progress_callback(frame_index + 1, total)
    if not frames:
        raise UnreadableVideo.no_frames(parsed.video_path)
    return {"frames": frames, "summary": {"total_frames": len(frames), **analyser.summary()}}


def iter_frames(video_path: str) -> Generator[tuple[int, Image]]:
    """Decoded frames with their 0-based index, until the first one that fails.

    Stopping at the first failed read is what processes a truncated file up to
    its last good frame. The capture is released however the loop ends.
    """
    capture = open_video(video_path)
    try:
        frame_index = 0
        while True:
            ok, image = capture.read()
            if not ok or image is None:
                return
            yield frame_index, image
            frame_index += 1
    finally:
        capture.release()


def shrink_to_width(image: Image, max_width: int) -> tuple[Image, float]:
    """A copy at most ``max_width`` wide (aspect kept) and the factor back to full size.

    Frames already narrow enough are returned as they are, with factor 1.
    """
    height, width = image.shape[:2]
    if width <= max_width:
        return image, 1.0
    scale = width / max_width
    small_height = max(1, round(height / scale))
    small: Image = cv2.resize(image, (max_width, small_height), interpolation=cv2.INTER_NEAREST)
    return small, scale


def box_to_full_size(box: tuple[int, int, int, int], scale: float, image: Image) -> list[int]:
    """An ``[x1, y1, x2, y2]`` box from analysis ``(x, y, width, height)``, clipped to ``image``."""
    x, y, width, height = box
    full_height, full_width = image.shape[:2]
    return [
        max(0, round(x * scale)),
        max(0, round(y * scale)),
        min(full_width, round((x + width) * scale)),
        min(full_height, round((y + height) * scale)),
    ]
