"""People and face detection with the detectors that ship inside OpenCV.

No model can be downloaded where ForgeSyte runs, so both tools use what the
pinned ``opencv-python-headless`` 4.14 wheel carries:

* ``detect_people``: the HOG + linear SVM pedestrian detector
  (``HOGDescriptor.getDefaultPeopleDetector``). Its window is 64 x 128, so a
  person must be at least about 128 pixels tall in the analysed frame, and
  frames smaller than the window have no detections.
* ``detect_faces``: the Haar frontal-face cascade
  (``haarcascade_frontalface_default.xml`` from ``cv2.data.haarcascades``).

Frames are shrunk to at most :data:`ANALYSIS_WIDTH` pixels wide first: both
detectors scan many scales, and their cost grows with the pixel count.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import cv2
import cv2.data
import numpy as np

from services.worker.plugin_api import PluginContractError
from services.worker.plugins._builtin import (
    FRAMES_OUTPUT_DESCRIPTION,
    BuiltinPlugin,
    BuiltinTool,
    float_option,
)
from services.worker.plugins._frames import Detection, Image, box_to_full_size, shrink_to_width

ANALYSIS_WIDTH = 320
DEFAULT_MIN_SCORE = 0.3
"""HOG detections whose SVM score is below this are dropped."""

FACE_CASCADE_FILE = "haarcascade_frontalface_default.xml"
MIN_FACE_PIXELS = 24


class _Counter:
    """Frames with at least one detection, and the most detections in a frame."""

    def __init__(self) -> None:
        self.frames_with_detections = 0
        self.max_in_a_frame = 0

    def add(self, detections: list[Detection]) -> list[Detection]:
        if detections:
            self.frames_with_detections += 1
            self.max_in_a_frame = max(self.max_in_a_frame, len(detections))
        return detections


class PeopleAnalyser:
    """HOG pedestrian detection on each frame."""

    def __init__(self, min_score: float = DEFAULT_MIN_SCORE) -> None:
        self._hog = cv2.HOGDescriptor()
        self._hog.setSVMDetector(
            np.asarray(cv2.HOGDescriptor.getDefaultPeopleDetector(), dtype=np.float32)
        )
        self._min_score = min_score
        self._counter = _Counter()

    def analyse(self, frame_index: int, image: Image) -> list[Detection]:
        """One ``person`` box per detected pedestrian, scored by the SVM."""
        small, scale = shrink_to_width(image, ANALYSIS_WIDTH)
        window_width, window_height = self._hog.winSize
        if small.shape[0] < window_height or small.shape[1] < window_width:
            # No person fits; and OpenCV's HOG crashes on images below its window.
            return self._counter.add([])
        boxes, scores = self._hog.detectMultiScale(
            small, winStride=(8, 8), padding=(8, 8), scale=1.05
        )
        detections: list[Detection] = [
            {
                "label": "person",
                "bbox": box_to_full_size((int(x), int(y), int(w), int(h)), scale, image),
                "score": round(float(score), 4),
            }
            for (x, y, w, h), score in zip(boxes, scores, strict=True)
            if float(score) >= self._min_score
        ]
        return self._counter.add(detections)

    def summary(self) -> dict[str, Any]:
        """How often people were seen."""
        return {
            "frames_with_people": self._counter.frames_with_detections,
            "max_people_in_a_frame": self._counter.max_in_a_frame,
        }


class FaceAnalyser:
    """Haar-cascade frontal face detection on each frame."""

    def __init__(self) -> None:
        cascade_path = Path(cv2.data.haarcascades) / FACE_CASCADE_FILE
        self._cascade = cv2.CascadeClassifier(str(cascade_path))
        if self._cascade.empty():
            raise PluginContractError(f"OpenCV's {FACE_CASCADE_FILE} could not be loaded")
        self._counter = _Counter()

    def analyse(self, frame_index: int, image: Image) -> list[Detection]:
        """One ``face`` box per detected frontal face."""
        small, scale = shrink_to_width(image, ANALYSIS_WIDTH)
        grey = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY)
        faces = self._cascade.detectMultiScale(
            grey, scaleFactor=1.1, minNeighbors=5, minSize=(MIN_FACE_PIXELS, MIN_FACE_PIXELS)
        )
        detections: list[Detection] = [
            {
                "label": "face",
                "bbox": box_to_full_size((int(x), int(y), int(w), int(h)), scale, image),
            }
            for x, y, w, h in faces
        ]
        return self._counter.add(detections)

    def summary(self) -> dict[str, Any]:
        """How often faces were seen."""
        return {
            "frames_with_faces": self._counter.frames_with_detections,
            "max_faces_in_a_frame": self._counter.max_in_a_frame,
        }


def _make_people_analyser(args: Mapping[str, Any]) -> PeopleAnalyser:
    return PeopleAnalyser(
        min_score=float_option(args, "min_score", DEFAULT_MIN_SCORE, minimum=0.0, maximum=10.0)
    )


def _make_face_analyser(args: Mapping[str, Any]) -> FaceAnalyser:
    return FaceAnalyser()


class PeoplePlugin(BuiltinPlugin):
    """Finds people (HOG) and frontal faces (Haar cascade)."""

    def __init__(self) -> None:
        super().__init__(
            plugin_id="people",
            name="People and faces",
            description=(
                "Finds standing people with OpenCV's HOG pedestrian detector and frontal "
                "faces with its Haar cascade; no model download needed."
            ),
            tools=[
                BuiltinTool(
                    id="detect_people",
                    description=(
                        "Boxes standing people at least ~128 px tall in a 320 px wide frame "
                        f"(option: min_score, default {DEFAULT_MIN_SCORE})."
                    ),
                    output_description=(
                        f"{FRAMES_OUTPUT_DESCRIPTION}; detections are "
                        '{"label": "person", "bbox": [x1, y1, x2, y2], "score": svm_score}; '
                        "summary adds frames_with_people and max_people_in_a_frame."
                    ),
                    make_analyser=_make_people_analyser,
                ),
                BuiltinTool(
                    id="detect_faces",
                    description="Boxes frontal faces in each frame.",
                    output_description=(
                        f"{FRAMES_OUTPUT_DESCRIPTION}; detections are "
                        '{"label": "face", "bbox": [x1, y1, x2, y2]}; summary adds '
                        "frames_with_faces and max_faces_in_a_frame."
                    ),
                    make_analyser=_make_face_analyser,
                ),
            ],
        )
