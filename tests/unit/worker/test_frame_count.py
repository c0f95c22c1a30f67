"""Frame counting on real videos, including files whose metadata lies."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from services.worker.frame_count import (
    MAX_PLAUSIBLE_FRAMES,
    FrameCountMethod,
    UnreadableVideo,
    count_frames_by_decoding,
    estimate_frame_count,
    plausible_header_count,
)
from tests.videos import (
    audio_only_file,
    avi_claiming_frame_count,
    avi_without_frame_data,
    empty_file,
    make_flat_video,
    probe_video,
    text_file_named_as_video,
    truncated_copy,
)


@pytest.mark.parametrize(
    ("fourcc", "suffix"), [("mp4v", ".mp4"), ("MJPG", ".avi"), ("XVID", ".avi")]
)
def test_honest_header_is_verified_and_used(tmp_path: Path, fourcc: str, suffix: str) -> None:
    video = make_flat_video(tmp_path / f"clip{suffix}", frame_count=37, fourcc=fourcc)

    estimate = estimate_frame_count(video)

    assert estimate.frames == 37
    assert estimate.method is FrameCountMethod.METADATA
    assert estimate.reported_frame_count == 37.0
    assert estimate.fps == pytest.approx(25.0)


def test_single_frame_video(tmp_path: Path) -> None:
    video = make_flat_video(tmp_path / "one.avi", frame_count=1)

    estimate = estimate_frame_count(video)

    assert (estimate.frames, estimate.method) == (1, FrameCountMethod.METADATA)


def test_truncated_file_is_counted_up_to_its_last_good_frame(tmp_path: Path) -> None:
    whole = make_flat_video(tmp_path / "whole.avi", frame_count=60)
    cut = truncated_copy(whole, tmp_path / "cut.avi", keep_fraction=0.5)
    header_count, decodable = probe_video(cut)
    assert header_count == 60, "the truncated header should still claim every frame"
    assert 0 < decodable < 60

    estimate = estimate_frame_count(cut)

    assert estimate.frames == decodable
    assert estimate.method is FrameCountMethod.COUNTED
    assert estimate.reported_frame_count == 60.0
    assert "does not decode" in estimate.note


def test_header_that_under_counts_is_corrected(tmp_path: Path) -> None:
    real = make_flat_video(tmp_path / "real.avi", frame_count=50)
    lying = avi_claiming_frame_count(real, tmp_path / "lying.avi", claimed=12)
    assert probe_video(lying) == (12, 50)

    estimate = estimate_frame_count(lying)

    assert (estimate.frames, estimate.method) == (50, FrameCountMethod.COUNTED)
    assert "38 more decode" in estimate.note


def test_header_that_over_counts_is_corrected(tmp_path: Path) -> None:
    real = make_flat_video(tmp_path / "real.avi", frame_count=50)
    lying = avi_claiming_frame_count(real, tmp_path / "lying.avi", claimed=900)
    assert probe_video(lying) == (900, 50)

    estimate = estimate_frame_count(lying)

    assert (estimate.frames, estimate.method) == (50, FrameCountMethod.COUNTED)


@pytest.mark.parametrize("claimed", [0, 0xFFFFFFFF, MAX_PLAUSIBLE_FRAMES + 1])
def test_missing_or_absurd_header_count_falls_back_to_counting(
    tmp_path: Path, claimed: int
) -> None:
    real = make_flat_video(tmp_path / "real.avi", frame_count=30)
    lying = avi_claiming_frame_count(real, tmp_path / "lying.avi", claimed=claimed)

    estimate = estimate_frame_count(lying)

    assert (estimate.frames, estimate.method) == (30, FrameCountMethod.COUNTED)
    assert estimate.reported_frame_count == float(claimed)
    assert "missing or absurd" in estimate.note


@pytest.mark.parametrize(
    ("reported", "expected"),
    [
        (1.0, 1),
        (250.0, 250),
        (249.6, 250),
        (0.0, None),
        (-1.0, None),
        (-9.2e18, None),
        (math.nan, None),
        (math.inf, None),
        (float(MAX_PLAUSIBLE_FRAMES), MAX_PLAUSIBLE_FRAMES),
        (float(MAX_PLAUSIBLE_FRAMES + 1), None),
    ],
)
def test_plausible_header_count(reported: float, expected: int | None) -> None:
    assert plausible_header_count(reported) == expected


def make_unreadable(kind: str, directory: Path) -> Path:
    """Files that must never produce a 'completed' job."""
    if kind == "text renamed .mp4":
        return text_file_named_as_video(directory / "notes.mp4")
    if kind == "empty file":
        return empty_file(directory / "empty.mp4")
    if kind == "audio only":
        return audio_only_file(directory / "tone.wav")
    if kind == "missing file":
        return directory / "never_written.mp4"
    if kind == "truncated mp4":
        whole = make_flat_video(directory / "whole.mp4", frame_count=20, fourcc="mp4v")
        return truncated_copy(whole, directory / "cut.mp4", keep_fraction=0.6)
    raise AssertionError(kind)


@pytest.mark.parametrize(
    "kind", ["text renamed .mp4", "empty file", "audio only", "missing file", "truncated mp4"]
)
def test_files_opencv_cannot_open_raise_unreadable_video(tmp_path: Path, kind: str) -> None:
    path = make_unreadable(kind, tmp_path)

    with pytest.raises(UnreadableVideo, match="cannot open the file as a video") as caught:
        estimate_frame_count(path)

    assert caught.value.path == str(path)
    assert str(tmp_path) not in str(caught.value), "messages are for users, not paths"


def test_file_that_claims_frames_but_decodes_none_is_unreadable(tmp_path: Path) -> None:
    real = make_flat_video(tmp_path / "real.avi", frame_count=20)
    hollow = avi_without_frame_data(real, tmp_path / "hollow.avi")
    assert probe_video(hollow) == (20, 0)

    with pytest.raises(UnreadableVideo, match="no decodable video frame"):
        estimate_frame_count(hollow)


def test_counting_pass_counts_every_frame_and_refuses_empty_streams(tmp_path: Path) -> None:
    real = make_flat_video(tmp_path / "real.avi", frame_count=23)
    hollow = avi_without_frame_data(real, tmp_path / "hollow.avi")

    assert count_frames_by_decoding(real) == 23
    with pytest.raises(UnreadableVideo, match="no decodable video frame"):
        count_frames_by_decoding(hollow)
