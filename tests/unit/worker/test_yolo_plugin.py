"""The yolo plugin on a real (tiny, YOLO-shaped) ONNX model run by OpenCV DNN."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from services.worker.plugin_api import PluginRegistry
from services.worker.plugins import yolo
from services.worker.plugins.yolo import MODEL_VARIABLE, ModelNotConfigured, YoloPlugin
from tests.videos import solid_frame, write_video

CLASSES = 2
BOXES = 10


def yolo_shaped_model(path: Path) -> Path:
    """Input (1, 3, 640, 640); output (1, 4 + CLASSES, BOXES), fixed predictions:
    one confident box of class 1, an overlapping weaker twin, and a faint box."""
    predictions = np.zeros((1, 4 + CLASSES, BOXES), dtype=np.float32)
    predictions[0, :4, 3] = [320, 320, 128, 64]  # centre x, centre y, w, h
    predictions[0, 4 + 1, 3] = 0.9
    predictions[0, :4, 4] = [322, 321, 128, 64]  # same object, lower score
    predictions[0, 4 + 1, 4] = 0.8
    predictions[0, :4, 7] = [100, 100, 20, 20]
    predictions[0, 4 + 0, 7] = 0.1  # below the confidence threshold
    # The output depends on the input (so nothing is folded away) but always
    # equals the predictions: pooled input, times zero, plus the constants.
    graph = helper.make_graph(
        [
            helper.make_node("GlobalAveragePool", ["images"], ["pooled"]),
            helper.make_node("Slice", ["pooled", "starts", "ends", "axes"], ["one"]),
            helper.make_node("Reshape", ["one", "shape"], ["flat"]),
            helper.make_node("Mul", ["flat", "zero"], ["nothing"]),
            helper.make_node("Add", ["predictions", "nothing"], ["output0"]),
        ],
        "yolo_shaped",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, 3, 640, 640])],
        [helper.make_tensor_value_info("output0", TensorProto.FLOAT, [1, 4 + CLASSES, BOXES])],
        initializer=[
            numpy_helper.from_array(predictions, "predictions"),
            numpy_helper.from_array(np.array([0], dtype=np.int64), "starts"),
            numpy_helper.from_array(np.array([1], dtype=np.int64), "ends"),
            numpy_helper.from_array(np.array([1], dtype=np.int64), "axes"),
            numpy_helper.from_array(np.array([1, 1, 1], dtype=np.int64), "shape"),
            numpy_helper.from_array(np.zeros((1, 1, 1), dtype=np.float32), "zero"),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, path)
    return path


@pytest.fixture
def configured_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    model = yolo_shaped_model(tmp_path / "model.onnx")
    labels = tmp_path / "labels.txt"
    labels.write_text("person\ncar\n")
    monkeypatch.setenv(MODEL_VARIABLE, str(model))
    monkeypatch.setenv(yolo.LABELS_VARIABLE, str(labels))
    return model


def test_detections_are_filtered_suppressed_and_mapped_to_frame_pixels(
    configured_model: Path, tmp_path: Path
) -> None:
    video = write_video(
        tmp_path / "v.avi", [solid_frame(320, 240, (40, 40, 40))] * 3, fourcc="MJPG"
    )
    registry = PluginRegistry.from_plugins([YoloPlugin()])
    result = registry.run_plugin_tool("yolo", "detect_objects", {"video_path": str(video)})
    assert result["summary"] == {"total_frames": 3, "detections_by_label": {"car": 3}}
    for frame in result["frames"]:
        # 320x240 is scaled by 2 into 640x480 and padded by 80 rows to 640x640.
        assert frame["detections"] == [
            {"label": "car", "confidence": 0.9, "box": [128, 104, 192, 136]}
        ]


def test_without_a_model_the_job_fails_saying_what_to_configure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(MODEL_VARIABLE, raising=False)
    video = write_video(tmp_path / "v.avi", [solid_frame(64, 48, (0, 0, 0))], fourcc="MJPG")
    registry = PluginRegistry.from_plugins([YoloPlugin()])
    with pytest.raises(ModelNotConfigured, match=f"set {MODEL_VARIABLE}"):
        registry.run_plugin_tool("yolo", "detect_objects", {"video_path": str(video)})


def test_a_file_that_is_not_an_onnx_model_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bogus = tmp_path / "bogus.onnx"
    bogus.write_text("not a model")
    monkeypatch.setenv(MODEL_VARIABLE, str(bogus))
    video = write_video(tmp_path / "v.avi", [solid_frame(64, 48, (0, 0, 0))], fourcc="MJPG")
    registry = PluginRegistry.from_plugins([YoloPlugin()])
    with pytest.raises(ModelNotConfigured, match="not an ONNX model"):
        registry.run_plugin_tool("yolo", "detect_objects", {"video_path": str(video)})


def test_the_plugin_is_installed_through_its_entry_point() -> None:
    registry = PluginRegistry.from_entry_points()
    assert "yolo" in registry.plugin_ids
    assert registry.tool("yolo", "detect_objects").accepts("video")
