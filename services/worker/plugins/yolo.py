"""Object detection with a YOLO-family ONNX model on OpenCV's DNN module.

No model ships with ForgeSyte and none can be downloaded at run time: the
operator points ``FORGESYTE_YOLO_MODEL`` at an ONNX file exported from a
YOLOv5/v8-style detector (one output of shape ``(1, 4 + classes, boxes)``:
centre x, centre y, width, height in input pixels, then one score per class).
``FORGESYTE_YOLO_LABELS`` may name a text file with one class name per line.
Without a model the plugin is still advertised, and each job fails with a
message saying what to configure.

Frames are letterboxed to the model's square input (default 640), boxes are
filtered by score and non-maximum suppression, and mapped back to the
original frame's pixels.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from services.worker.plugin_api import PluginError
from services.worker.plugins._builtin import (
    FRAMES_OUTPUT_DESCRIPTION,
    BuiltinPlugin,
    BuiltinTool,
    float_option,
)
from services.worker.plugins._frames import Detection, Image

MODEL_VARIABLE = "FORGESYTE_YOLO_MODEL"
LABELS_VARIABLE = "FORGESYTE_YOLO_LABELS"
INPUT_SIZE = 640
DEFAULT_CONFIDENCE = 0.25
NMS_IOU = 0.45


class ModelNotConfigured(PluginError):
    """No usable ONNX model was configured for the yolo plugin."""


@dataclass(frozen=True)
class _Model:
    net: cv2.dnn.Net
    labels: tuple[str, ...]
    # A Net is not thread-safe: concurrent jobs take turns to run it.
    lock: threading.Lock


_models: dict[Path, _Model] = {}
_models_lock = threading.Lock()


def _load_model() -> _Model:
    """The configured model, loaded once per process (nets are reused per thread)."""
    configured = os.environ.get(MODEL_VARIABLE, "").strip()
    if not configured:
        raise ModelNotConfigured(
            f"no YOLO model is configured: set {MODEL_VARIABLE} on the worker to the path "
            "of an ONNX file"
        )
    path = Path(configured)
    with _models_lock:
        if path not in _models:
            if not path.is_file():
                raise ModelNotConfigured(f"{MODEL_VARIABLE} names a file that does not exist")
            try:
                net = cv2.dnn.readNetFromONNX(str(path))
            except cv2.error:
                raise ModelNotConfigured(
                    f"{MODEL_VARIABLE} is not an ONNX model OpenCV can load"
                ) from None
            _models[path] = _Model(net, _labels(), threading.Lock())
        return _models[path]


def _labels() -> tuple[str, ...]:
    configured = os.environ.get(LABELS_VARIABLE, "").strip()
    if not configured:
        return ()
    lines = Path(configured).read_text(encoding="utf-8").splitlines()
    return tuple(line.strip() for line in lines if line.strip())


def letterbox(image: Image, size: int) -> tuple[Image, float, tuple[int, int]]:
    """Scale to fit a ``size`` square, pad the rest; returns the scale and padding."""
    height, width = image.shape[:2]
    scale = min(size / width, size / height)
    resized = cv2.resize(image, (round(width * scale), round(height * scale)))
    pad_x, pad_y = (size - resized.shape[1]) // 2, (size - resized.shape[0]) // 2
    canvas = np.full((size, size, 3), 114, dtype=np.uint8)
    canvas[pad_y : pad_y + resized.shape[0], pad_x : pad_x + resized.shape[1]] = resized
    return canvas, scale, (pad_x, pad_y)


class YoloAnalyser:
    """Runs the model on each frame and keeps the confident, distinct boxes."""

    def __init__(self, model: _Model, confidence: float) -> None:
        self._model = model
        self._confidence = confidence
        self._counts: dict[str, int] = {}

    def analyse(self, frame_index: int, image: Image) -> list[Detection]:
        boxed, scale, (pad_x, pad_y) = letterbox(image, INPUT_SIZE)
        blob = cv2.dnn.blobFromImage(boxed, 1 / 255.0, swapRB=True)
        with self._model.lock:
            self._model.net.setInput(blob)
            output = np.asarray(self._model.net.forward())
        rows = output.reshape(output.shape[1], -1).T  # (boxes, 4 + classes)
        scores = rows[:, 4:]
        classes = scores.argmax(axis=1)
        confidences = scores[np.arange(len(rows)), classes]
        keep = confidences >= self._confidence
        boxes: list[list[int]] = []
        for cx, cy, w, h in rows[keep, :4]:
            x = (cx - w / 2 - pad_x) / scale
            y = (cy - h / 2 - pad_y) / scale
            boxes.append([round(x), round(y), round(w / scale), round(h / scale)])
        kept_confidences = [float(c) for c in confidences[keep]]
        kept_classes = [int(c) for c in classes[keep]]
        chosen = cv2.dnn.NMSBoxes(boxes, kept_confidences, self._confidence, NMS_IOU)
        detections: list[Detection] = []
        for index in np.asarray(chosen).reshape(-1):
            x, y, w, h = boxes[index]
            label = self._label(kept_classes[index])
            self._counts[label] = self._counts.get(label, 0) + 1
            detections.append(
                {
                    "label": label,
                    "confidence": round(kept_confidences[index], 4),
                    "box": [x, y, x + w, y + h],
                }
            )
        return detections

    def _label(self, class_index: int) -> str:
        labels = self._model.labels
        return labels[class_index] if class_index < len(labels) else f"class_{class_index}"

    def summary(self) -> dict[str, Any]:
        return {"detections_by_label": dict(sorted(self._counts.items()))}


def _make_analyser(args: Mapping[str, Any]) -> YoloAnalyser:
    confidence = float_option(args, "confidence", DEFAULT_CONFIDENCE, minimum=0.01, maximum=1.0)
    return YoloAnalyser(_load_model(), confidence)


class YoloPlugin(BuiltinPlugin):
    """Objects found by an operator-supplied YOLO ONNX model."""

    def __init__(self) -> None:
        super().__init__(
            plugin_id="yolo",
            name="YOLO objects",
            description=(
                f"Detects objects with a YOLO-style ONNX model the operator configures "
                f"({MODEL_VARIABLE}) on OpenCV's DNN module."
            ),
            tools=[
                BuiltinTool(
                    id="detect_objects",
                    description=(
                        "Boxes, labels and confidences of the objects in each frame "
                        f"(option: confidence 0.01-1, default {DEFAULT_CONFIDENCE})."
                    ),
                    output_description=(
                        f"{FRAMES_OUTPUT_DESCRIPTION}; each detection is "
                        '{"label", "confidence", "box": [x1, y1, x2, y2]}; summary adds '
                        "detections_by_label."
                    ),
                    make_analyser=_make_analyser,
                )
            ],
        )
