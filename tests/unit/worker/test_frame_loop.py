"""The shared frame loop: progress calls, cancellation, bad inputs, result shape."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from services.worker.frame_count import UnreadableVideo
from services.worker.plugin_api import JobCancelled, ToolArgumentError
from services.worker.plugins._frames import (
    Detection,
    Image,
    analyse_video,
    box_to_full_size,
    shrink_to_width,
)
from tests.videos import (
    avi_claiming_frame_count,
    avi_without_frame_data,
    make_flat_video,
    probe_video,
    text_file_named_as_video,
    truncated_copy,
)


class RecordingAnalyser:
    """Notes the frames it is shown and reports each frame's width."""

    def __init__(self) -> None:
        self.seen: list[int] = []

    def analyse(self, frame_index: int, image: Image) -> list[Detection]:
        self.seen.append(frame_index)
        return [{"label": "width", "value": int(image.shape[1])}]

    def summary(self) -> dict[str, Any]:
        return {"frames_seen": len(self.seen)}


class ProgressLog:
    """A progress callback that remembers its calls and can cancel at a frame."""

    def __init__(self, cancel_at: int | None = None) -> None:
        self.calls: list[tuple[int, int]] = []
        self._cancel_at = cancel_at

    def __call__(self, current_frame: int, total_frames: int) -> None:
        self.calls.append((current_frame, total_frames))
        if current_frame == self._cancel_at:
            raise JobCancelled


def test_result_has_forgesytes_shape_one_entry_per_frame(mjpg_video: Path) -> None:
    analyser = RecordingAnalyser()

    result = analyse_video({"video_path": str(mjpg_video)}, analyser)

    assert [frame["frame_index"] for frame in result["frames"]] == list(range(40))
    assert result["frames"][0]["detections"] == [{"label": "width", "value": 160}]
    assert result["summary"] == {"total_frames": 40, "frames_seen": 40}
    assert json.loads(json.dumps(result)) == result


def test_progress_is_called_once_per_frame_one_based_with_the_estimate(mjpg_video: Path) -> None:
    progress = ProgressLog()

    analyse_video({"video_path": mjpg_video, "progress_callback": progress}, RecordingAnalyser())

    assert progress.calls == [(frame, 40) for frame in range(1, 41)]


def test_a_total_passed_by_the_worker_is_used_as_is(mjpg_video: Path) -> None:
    progress = ProgressLog()

    analyse_video(
        {"video_path": str(mjpg_video), "progress_callback": progress, "total_frames": 80},
        RecordingAnalyser(),
    )

    assert progress.calls[-1] == (40, 80)


def test_cancellation_stops_the_tool_at_the_next_frame(mjpg_video: Path) -> None:
    analyser = RecordingAnalyser()
    progress = ProgressLog(cancel_at=3)

    with pytest.raises(JobCancelled):
        analyse_video({"video_path": str(mjpg_video), "progress_callback": progress}, analyser)

    assert analyser.seen == [0, 1, 2]
    assert len(progress.calls) == 3


def test_truncated_file_is_analysed_up_to_its_last_good_frame(tmp_path: Path) -> None:
    whole = make_flat_video(tmp_path / "whole.avi", frame_count=60)
    cut = truncated_copy(whole, tmp_path / "cut.avi", keep_fraction=0.5)
    _, decodable = probe_video(cut)
    progress = ProgressLog()

    result = analyse_video(
        {"video_path": str(cut), "progress_callback": progress}, RecordingAnalyser()
    )

    assert result["summary"]["total_frames"] == decodable
    assert len(result["frames"]) == decodable
    assert progress.calls[-1] == (decodable, decodable)


def test_an_under_estimated_total_is_passed_through_for_the_throttle_to_cap(
    tmp_path: Path,
) -> None:
    real = make_flat_video(tmp_path / "real.avi", frame_count=30)
    lying = avi_claiming_frame_count(real, tmp_path / "lying.avi", claimed=10)
    progress = ProgressLog()

    analyse_video(
        {"video_path": str(lying), "progress_callback": progress, "total_frames": 10},
        RecordingAnalyser(),
    )

    assert progress.calls[-1] == (30, 10)


def test_without_a_callback_the_video_is_not_counted_in_advance(tmp_path: Path) -> None:
    # A hollow header cannot be counted, but nothing asks for a count here:
    # the loop itself finds that no frame decodes.
    real = make_flat_video(tmp_path / "real.avi", frame_count=20)
    hollow = avi_without_frame_data(real, tmp_path / "hollow.avi")
    analyser = RecordingAnalyser()

    with pytest.raises(UnreadableVideo, match="no decodable video frame"):
        analyse_video({"video_path": str(hollow)}, analyser)

    assert analyser.seen == []


def test_file_that_is_not_a_video_fails_clearly(tmp_path: Path) -> None:
    notes = text_file_named_as_video(tmp_path / "notes.mp4")

    with pytest.raises(UnreadableVideo, match="cannot open the file as a video"):
        analyse_video({"video_path": str(notes)}, RecordingAnalyser())


@pytest.mark.parametrize(
    ("args", "complaint"),
    [
        ({}, "'video_path'"),
        ({"video_path": ""}, "'video_path'"),
        ({"video_path": 7}, "'video_path'"),
        ({"video_path": "a.mp4", "progress_callback": "yes"}, "'progress_callback'"),
        ({"video_path": "a.mp4", "total_frames": 0}, "'total_frames'"),
        ({"video_path": "a.mp4", "total_frames": True}, "'total_frames'"),
        ({"video_path": "a.mp4", "total_frames": 2.5}, "'total_frames'"),
    ],
)
def test_bad_arguments_are_named(args: dict[str, Any], complaint: str) -> None:
    with pytest.raises(ToolArgumentError, match=complaint):
        analyse_video(args, RecordingAnalyser())


def test_shrink_keeps_narrow_frames_and_the_aspect_of_wide_ones() -> None:
    narrow = np.zeros((48, 64, 3), dtype=np.uint8)
    wide = np.zeros((480, 640, 3), dtype=np.uint8)

    same, factor = shrink_to_width(narrow, 160)
    small, scale = shrink_to_width(wide, 160)

    assert same is narrow
    assert factor == 1.0
    assert small.shape == (120, 160, 3)
    assert scale == 4.0


def test_boxes_scale_back_to_full_size_and_stay_inside_the_frame() -> None:
    frame = np.zeros((480, 640, 3), dtype=np.uint8)

    assert box_to_full_size((10, 20, 30, 40), 4.0, frame) == [40, 80, 160, 240]
    assert box_to_full_size((150, 100, 20, 30), 4.0, frame) == [600, 400, 640, 480]


def open_paths() -> set[str]:
    """Files this process holds open (Linux)."""
    fd_dir = Path("/proc/self/fd")
    paths = set()
    for fd in fd_dir.iterdir():
        try:
            paths.add(str(fd.readlink()))
        except OSError:
            continue
    return paths


def test_a_cancelled_tool_releases_the_video_file_at_once(tmp_path: Path) -> None:
    video = make_flat_video(tmp_path / "cancel_me.avi", frame_count=20)

    with pytest.raises(JobCancelled) as caught:
        analyse_video(
            {"video_path": str(video), "progress_callback": ProgressLog(cancel_at=2)},
            RecordingAnalyser(),
        )

    assert caught.traceback, "the traceback (and the tool's frame) is still alive"
    assert str(video) not in open_paths()
