"""The built-in plugins on generated videos whose right answers are known."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from services.worker.frame_count import UnreadableVideo
from services.worker.plugin_api import PluginRegistry, ToolArgumentError, ToolResult
from tests.videos import (
    BLUE,
    GREEN,
    RED,
    Box,
    FigureVideo,
    MovingBoxVideo,
    SceneCutVideo,
    make_moving_box_video,
    make_scene_cut_video,
    text_file_named_as_video,
)


@pytest.fixture(scope="module")
def registry() -> PluginRegistry:
    """The plugins as the worker finds them: through entry points."""
    return PluginRegistry.from_entry_points()


def run(
    registry: PluginRegistry, plugin: str, tool: str, video: Path, **options: Any
) -> ToolResult:
    result = registry.run_plugin_tool(plugin, tool, {"video_path": str(video), **options})
    assert json.loads(json.dumps(result)) == result, "results must be JSON-serialisable"
    return result


def iou(first: Box | list[int], second: Box | list[int]) -> float:
    """Intersection over union of two [x1, y1, x2, y2] boxes."""
    width = min(first[2], second[2]) - max(first[0], second[0])
    height = min(first[3], second[3]) - max(first[1], second[1])
    inter = max(0, width) * max(0, height)
    area = (first[2] - first[0]) * (first[3] - first[1]) + (second[2] - second[0]) * (
        second[3] - second[1]
    )
    return inter / (area - inter)


def contains_centre(outer: list[int], inner: Box) -> bool:
    centre_x, centre_y = (inner[0] + inner[2]) / 2, (inner[1] + inner[3]) / 2
    return outer[0] <= centre_x <= outer[2] and outer[1] <= centre_y <= outer[3]


# Motion


def assert_motion_follows_the_box(result: ToolResult, video: MovingBoxVideo) -> None:
    for frame in result["frames"]:
        drawn = video.boxes.get(frame["frame_index"])
        if drawn is None:
            assert frame["detections"] == [], f"motion in still frame {frame['frame_index']}"
            continue
        [detection] = frame["detections"]
        assert detection["label"] == "motion"
        assert iou(detection["bbox"], drawn) >= 0.7, (frame["frame_index"], detection, drawn)


def test_motion_boxes_the_moving_box_in_exactly_the_frames_it_moves(
    registry: PluginRegistry, moving_box_video: MovingBoxVideo
) -> None:
    result = run(registry, "motion", "detect_motion", moving_box_video.path)

    assert_motion_follows_the_box(result, moving_box_video)
    assert result["summary"] == {
        "total_frames": moving_box_video.frame_count,
        "frames_with_motion": len(moving_box_video.boxes),
        "max_regions_in_a_frame": 1,
    }


def test_motion_boxes_are_in_full_frame_pixels_when_analysis_is_downscaled(
    registry: PluginRegistry, tmp_path: Path
) -> None:
    video = make_moving_box_video(
        tmp_path / "wide.avi",
        width=480,
        height=240,
        frame_count=30,
        moving_frames=range(10, 20),
        box_size=60,
        step=9,
        fourcc="MJPG",
    )

    result = run(registry, "motion", "detect_motion", video.path)

    assert_motion_follows_the_box(result, video)


def test_motion_finds_nothing_in_a_still_video(registry: PluginRegistry, mjpg_video: Path) -> None:
    result = run(registry, "motion", "detect_motion", mjpg_video)

    assert all(frame["detections"] == [] for frame in result["frames"])
    assert result["summary"]["frames_with_motion"] == 0


def test_motion_options_are_validated(registry: PluginRegistry, mjpg_video: Path) -> None:
    with pytest.raises(ToolArgumentError, match="'sensitivity'"):
        run(registry, "motion", "detect_motion", mjpg_video, sensitivity="high")


# Scene cuts


def cut_frames(result: ToolResult) -> list[int]:
    return [frame["frame_index"] for frame in result["frames"] if frame["detections"]]


def test_scene_cuts_are_found_at_the_generated_cut_frames(
    registry: PluginRegistry, scene_cut_video: SceneCutVideo
) -> None:
    result = run(registry, "scene_cuts", "detect_scene_cuts", scene_cut_video.path)

    assert cut_frames(result) == list(scene_cut_video.cut_frames) == [10, 25, 30]
    assert result["summary"]["cuts"] == [10, 25, 30]
    assert result["summary"]["scene_count"] == 4
    assert result["summary"]["total_frames"] == scene_cut_video.frame_count
    for index in scene_cut_video.cut_frames:
        [cut] = result["frames"][index]["detections"]
        assert cut["label"] == "scene_cut"
        assert 0.5 <= cut["score"] <= 1.0


def test_scene_cuts_survive_lossy_mp4v_encoding(registry: PluginRegistry, tmp_path: Path) -> None:
    video = make_scene_cut_video(
        tmp_path / "cuts.mp4", scenes=[(BLUE, 7), (RED, 9), (GREEN, 6)], fourcc="mp4v"
    )

    result = run(registry, "scene_cuts", "detect_scene_cuts", video.path)

    assert cut_frames(result) == [7, 16]


def test_motion_is_not_a_scene_cut(
    registry: PluginRegistry, moving_box_video: MovingBoxVideo
) -> None:
    result = run(registry, "scene_cuts", "detect_scene_cuts", moving_box_video.path)

    assert result["summary"]["cuts"] == []
    assert result["summary"]["scene_count"] == 1


def test_scene_cut_threshold_is_validated(registry: PluginRegistry, mjpg_video: Path) -> None:
    with pytest.raises(ToolArgumentError, match="'threshold' must be between"):
        run(registry, "scene_cuts", "detect_scene_cuts", mjpg_video, threshold=1.5)


# People and faces


def assert_figure_found_only_where_drawn(
    result: ToolResult, video: FigureVideo, label: str
) -> None:
    for frame in result["frames"]:
        drawn = video.boxes.get(frame["frame_index"])
        if drawn is None:
            assert frame["detections"] == [], f"{label} in empty frame {frame['frame_index']}"
            continue
        [detection] = frame["detections"]
        assert detection["label"] == label
        assert contains_centre(detection["bbox"], drawn)
        assert iou(detection["bbox"], drawn) >= 0.3


def test_hog_finds_the_drawn_pedestrian_and_nothing_in_empty_frames(
    registry: PluginRegistry, person_video: FigureVideo
) -> None:
    result = run(registry, "people", "detect_people", person_video.path)

    assert_figure_found_only_where_drawn(result, person_video, "person")
    assert all(
        detection["score"] >= 0.3 for frame in result["frames"] for detection in frame["detections"]
    )
    assert result["summary"]["frames_with_people"] == len(person_video.boxes)


def test_haar_cascade_finds_the_drawn_face_and_nothing_in_empty_frames(
    registry: PluginRegistry, face_video: FigureVideo
) -> None:
    result = run(registry, "people", "detect_faces", face_video.path)

    assert_figure_found_only_where_drawn(result, face_video, "face")
    assert result["summary"] == {
        "total_frames": face_video.frame_count,
        "frames_with_faces": len(face_video.boxes),
        "max_faces_in_a_frame": 1,
    }


def test_a_pedestrian_is_not_a_face(registry: PluginRegistry, person_video: FigureVideo) -> None:
    result = run(registry, "people", "detect_faces", person_video.path)

    assert result["summary"]["frames_with_faces"] == 0


# Every tool


ALL_TOOLS = [
    ("motion", "detect_motion"),
    ("people", "detect_people"),
    ("people", "detect_faces"),
    ("scene_cuts", "detect_scene_cuts"),
]


@pytest.mark.parametrize(("plugin", "tool"), ALL_TOOLS)
def test_every_tool_reports_progress_per_frame(
    registry: PluginRegistry, scene_cut_video: SceneCutVideo, plugin: str, tool: str
) -> None:
    calls: list[tuple[int, int]] = []

    result = registry.run_plugin_tool(
        plugin,
        tool,
        {"video_path": str(scene_cut_video.path)},
        progress_callback=lambda current, total: calls.append((current, total)),
    )

    total = scene_cut_video.frame_count
    assert calls == [(frame, total) for frame in range(1, total + 1)]
    assert result["summary"]["total_frames"] == total


@pytest.mark.parametrize(("plugin", "tool"), ALL_TOOLS)
def test_every_tool_refuses_a_file_that_is_not_a_video(
    registry: PluginRegistry, tmp_path: Path, plugin: str, tool: str
) -> None:
    notes = text_file_named_as_video(tmp_path / "notes.mp4")

    with pytest.raises(UnreadableVideo):
        registry.run_plugin_tool(plugin, tool, {"video_path": str(notes)})


def test_frames_smaller_than_the_hog_window_have_no_people(
    registry: PluginRegistry, scene_cut_video: SceneCutVideo
) -> None:
    # 96 x 72 frames cannot hold a 64 x 128 detection window.
    result = run(registry, "people", "detect_people", scene_cut_video.path)

    assert result["summary"]["frames_with_people"] == 0
    assert len(result["frames"]) == scene_cut_video.frame_count
