"""Videos shared by the worker unit tests, made once per session with OpenCV."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.videos import (
    BLUE,
    GREEN,
    GREY,
    RED,
    FigureVideo,
    MovingBoxVideo,
    SceneCutVideo,
    make_face_video,
    make_flat_video,
    make_moving_box_video,
    make_person_video,
    make_scene_cut_video,
)


@pytest.fixture(scope="session")
def video_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One directory for the session's generated videos."""
    return tmp_path_factory.mktemp("videos")


@pytest.fixture(scope="session")
def mjpg_video(video_dir: Path) -> Path:
    """40 flat frames in an MJPG AVI: the plain, honest case."""
    return make_flat_video(video_dir / "flat.avi", frame_count=40)


@pytest.fixture(scope="session")
def moving_box_video(video_dir: Path) -> MovingBoxVideo:
    """A box moving during frames 20-44 of 60, mp4v (lossy, like real uploads)."""
    return make_moving_box_video(video_dir / "moving_box.mp4")


@pytest.fixture(scope="session")
def scene_cut_video(video_dir: Path) -> SceneCutVideo:
    """Four flat-colour scenes, cuts at frames 10, 25 and 30."""
    return make_scene_cut_video(
        video_dir / "cuts.avi", scenes=[(RED, 10), (GREEN, 15), (BLUE, 5), (GREY, 12)]
    )


@pytest.fixture(scope="session")
def person_video(video_dir: Path) -> FigureVideo:
    """A pedestrian silhouette in frames 4-7 of 10."""
    return make_person_video(video_dir / "person.avi", frame_count=10, person_frames=range(4, 8))


@pytest.fixture(scope="session")
def face_video(video_dir: Path) -> FigureVideo:
    """A drawn face in frames 4-7 of 10."""
    return make_face_video(video_dir / "face.avi", frame_count=10, face_frames=range(4, 8))
