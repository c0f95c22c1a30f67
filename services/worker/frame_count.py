"""How many frames a video has, as an estimate the progress bar can trust.

``CAP_PROP_FRAME_COUNT`` is cheap (a header read) and exact for the
constant-frame-rate files most people upload, but it lies in known ways:
unopenable files give -1, streams without a frame count give 0 or a huge
negative number, truncated files report their full original length, some
headers are simply wrong, and some codecs report a count yet decode nothing.
OpenCV exposes no container duration, so "does the count agree with
fps x duration?" is asked of the stream itself: seeking to frame ``count - 1``
is a seek to timestamp ``(count - 1) / fps``; the frame found there must exist,
carry that timestamp, and be the last one.

The procedure, chosen so the common case costs milliseconds and only lying
files pay for a full decode:

1. Open the file; if OpenCV cannot, raise :class:`UnreadableVideo`.
2. Decode the first frame; if there is none, raise :class:`UnreadableVideo`
   (never let a job "complete" with empty results).
3. If the header count is finite, positive and below
   :data:`MAX_PLAUSIBLE_FRAMES`, verify it by decoding its last frame:

   * the frame decodes, sits at the expected position and time, and nothing
     follows it: the header is right (``METADATA``);
   * the frame decodes and more frames follow (an under-estimating header):
     keep grabbing from there and return the exact total (``COUNTED``);
   * otherwise (truncated file, over-estimating header, a timestamp that
     disagrees with fps x count): fall through to a counting pass.

4. Counting pass: grab every frame from the start and count (``COUNTED``).
   It costs about one decode of the file, paid only by files whose metadata is
   missing, absurd or contradicted.

The result is still an estimate for the tools (a file may be damaged between
two decodes), which is why the progress throttle tolerates totals that are
too small or too large.
"""

from __future__ import annotations

import enum
import math
import os
from dataclasses import dataclass

import cv2

MAX_PLAUSIBLE_FRAMES = 50_000_000
"""Above this the header count is treated as garbage: about 23 days at 25 fps."""

MAX_PLAUSIBLE_FPS = 1_000.0
"""Frame rates above this (or non-positive, or non-finite) are not used for checks."""

TIMESTAMP_TOLERANCE_FRAMES = 2.0
"""How many frame durations the last frame's timestamp may differ from ``(count-1)/fps``."""


class UnreadableVideo(Exception):
    """The file cannot be analysed as a video: OpenCV cannot open it, or no frame decodes.

    ``str(error)`` is a sentence suitable for a job's ``error_message``; it
    never includes the local path, which means nothing to the user.
    """

    def __init__(self, reason: str, path: str | os.PathLike[str]) -> None:
        self.reason = reason
        self.path = os.fspath(path)
        super().__init__(reason)

    @classmethod
    def cannot_open(cls, path: str | os.PathLike[str]) -> UnreadableVideo:
        """OpenCV refused the file outright."""
        return cls(
            "OpenCV cannot open the file as a video (empty, not a video, or an "
            "unsupported or damaged container)",
            path,
        )

    @classmethod
    def no_frames(cls, path: str | os.PathLike[str]) -> UnreadableVideo:
        """The file opened, but not one frame decodes."""
        return cls("the file contains no decodable video frame", path)


class FrameCountMethod(enum.StrEnum):
    """How :class:`FrameCountEstimate` was obtained (worth a log field)."""

    METADATA = "metadata"
    """The header count, verified by decoding its last frame."""

    COUNTED = "counted"
    """Counted by decoding, because the header count was missing or wrong."""


@dataclass(frozen=True)
class FrameCountEstimate:
    """The frame total to report progress against, and where it came from."""

    frames: int
    """At least 1: a file without a decodable frame raises instead."""

    method: FrameCountMethod
    reported_frame_count: float
    """Raw ``CAP_PROP_FRAME_COUNT`` (may be negative, zero, NaN or absurd)."""

    fps: float | None
    """``CAP_PROP_FPS`` when plausible, else ``None``."""

    note: str
    """Why this method was used, in words, for logs."""


def estimate_frame_count(video_path: str | os.PathLike[str]) -> FrameCountEstimate:
    """Estimate the number of decodable frames in a video (see the module docstring).

    Raises :class:`UnreadableVideo` when OpenCV cannot open the file or no
    frame decodes.
    """
    path = os.fspath(video_path)
    capture = open_video(path)
    try:
        reported = float(capture.get(cv2.CAP_PROP_FRAME_COUNT))
        fps = _plausible_fps(float(capture.get(cv2.CAP_PROP_FPS)))
        if not capture.grab():
            raise UnreadableVideo.no_frames(path)
        header_count = plausible_header_count(reported)
        if header_count is None:
            check = _HeaderCheck(None, f"header frame count {reported!r} is missing or absurd")
        else:
            check = _check_header_count(capture, header_count, fps)
    finally:
        capture.release()
    if check.frames is not None:
        method = (
            FrameCountMethod.METADATA if check.frames == header_count else FrameCountMethod.COUNTED
        )
        return FrameCountEstimate(check.frames, method, reported, fps, check.note)
    counted = count_frames_by_decoding(path)
    return FrameCountEstimate(counted, FrameCountMethod.COUNTED, reported, fps, check.note)


def plausible_header_count(reported: float) -> int | None:
    """The header count as an int if it can be believed at all, else ``None``."""
    if not math.isfinite(reported) or reported < 1 or reported > MAX_PLAUSIBLE_FRAMES:
        return None
    return round(reported)


def count_frames_by_decoding(video_path: str | os.PathLike[str]) -> int:
    """Count frames by grabbing (decoding, without colour conversion) every one.

    Raises :class:`UnreadableVideo` if the file cannot be opened or yields no frame.
    """
    path = os.fspath(video_path)
    capture = open_video(path)
    try:
        frames = 0
        while capture.grab():
            frames += 1
    finally:
        capture.release()
    if frames == 0:
        raise UnreadableVideo.no_frames(path)
    return frames


def open_video(video_path: str | os.PathLike[str]) -> cv2.VideoCapture:
    """An opened capture, or :class:`UnreadableVideo` if OpenCV cannot open the file."""
    capture = cv2.VideoCapture(os.fspath(video_path))
    if not capture.isOpened():
        capture.release()
        raise UnreadableVideo.cannot_open(video_path)
    return capture


def _plausible_fps(fps: float) -> float | None:
    if math.isfinite(fps) and 0 < fps <= MAX_PLAUSIBLE_FPS:
        return fps
    return None


@dataclass(frozen=True)
class _HeaderCheck:
    frames: int | None
    """The frame total if the stream settled it, ``None`` if a counting pass is needed."""

    note: str


def _check_header_count(
    capture: cv2.VideoCapture, header_count: int, fps: float | None
) -> _HeaderCheck:
    """Decode the header's last frame (the first one is already grabbed) and look past it."""
    last_index = header_count - 1
    if last_index > 0:
        if not capture.set(cv2.CAP_PROP_POS_FRAMES, last_index):
            return _HeaderCheck(None, f"cannot seek to frame {last_index} claimed by the header")
        if not capture.grab():
            return _HeaderCheck(
                None, f"header claims {header_count} frames but frame {last_index} does not decode"
            )
    position = round(capture.get(cv2.CAP_PROP_POS_FRAMES))
    if position != header_count:
        return _HeaderCheck(None, f"seeking to frame {last_index} landed at position {position}")
    if fps is not None:
        expected_ms = last_index * 1000.0 / fps
        actual_ms = float(capture.get(cv2.CAP_PROP_POS_MSEC))
        if abs(actual_ms - expected_ms) > TIMESTAMP_TOLERANCE_FRAMES * 1000.0 / fps:
            return _HeaderCheck(
                None,
                f"frame {last_index} is at {actual_ms:.0f} ms where fps x count "
                f"puts it at {expected_ms:.0f} ms",
            )
    beyond = 0
    while capture.grab():
        beyond += 1
    if beyond == 0:
        return _HeaderCheck(header_count, "header frame count verified by decoding its last frame")
    return _HeaderCheck(
        header_count + beyond,
        f"header claims {header_count} frames but {beyond} more decode after them",
    )
