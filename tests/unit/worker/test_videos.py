"""The video makers check their own output, so tests never run on a broken fixture."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.videos import (
    make_flat_video,
    make_moving_box_video,
    probe_video,
    solid_frame,
    write_video,
)


def test_writer_refuses_a_container_the_codec_does_not_go_in(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"MJPG videos are written as \.avi"):
        write_video(tmp_path / "clip.mp4", [solid_frame(64, 48, (0, 0, 0))], fourcc="MJPG")


def test_written_video_decodes_to_every_frame(tmp_path: Path) -> None:
    video = make_flat_video(tmp_path / "clip.avi", frame_count=12, fourcc="XVID")

    assert probe_video(video) == (12, 12)


def test_moving_box_stays_inside_the_frame(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="leave the frame"):
        make_moving_box_video(tmp_path / "box.mp4", width=64, height=48, moving_frames=range(0, 40))
