"""The smoke test's own video is a real, decodable file."""

from __future__ import annotations

from pathlib import Path

import cv2

from services.cli.smoke_video import FRAMES, HEIGHT, WIDTH, make_smoke_video


def test_the_video_decodes_to_every_frame_with_a_moving_box(tmp_path: Path) -> None:
    path = make_smoke_video(tmp_path / "smoke.mp4")
    capture = cv2.VideoCapture(str(path))
    frames = []
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(frame)
    capture.release()
    assert len(frames) == FRAMES
    assert frames[0].shape == (HEIGHT, WIDTH, 3)
    # Something moves: the first and last frames differ clearly.
    assert cv2.absdiff(frames[0], frames[-1]).mean() > 1.0


def test_a_longer_video_can_be_asked_for(tmp_path: Path) -> None:
    path = make_smoke_video(tmp_path / "long.mp4", frames=90)
    capture = cv2.VideoCapture(str(path))
    assert int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) == 90
    capture.release()
