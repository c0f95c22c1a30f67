"""Motion detection: background subtraction, then one box per moving region.

Each frame is shrunk to at most :data:`ANALYSIS_WIDTH` pixels wide and turned
grey, then fed to OpenCV's MOG2 background model, which learns what the static
scene looks like and marks pixels that do not fit it. The first frame seeds the
model; after that it learns at a fixed slow rate (1 / history) rather than
MOG2's default, which learns fast early on and would absorb a slowly moving
object into the background while it is still moving. Small specks (sensor
noise, compression artefacts) are removed with a morphological opening, nearby
fragments are joined by a dilation, and each remaining region becomes a box
scaled back to full-frame pixels. The first frame has nothing to be compared
with, so it has no motion by definition.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import cv2

from services.worker.plugins._builtin import (
    FRAMES_OUTPUT_DESCRIPTION,
    BuiltinPlugin,
    BuiltinTool,
    float_option,
)
from services.worker.plugins._frames import Detection, Image, box_to_full_size, shrink_to_width

ANALYSIS_WIDTH = 160
BACKGROUND_HISTORY_FRAMES = 200
BACKGROUND_LEARNING_RATE = 1 / BACKGROUND_HISTORY_FRAMES
DEFAULT_SENSITIVITY = 32.0
"""MOG2 ``varThreshold``: squared distance from the model beyond which a pixel moved."""

DEFAULT_MIN_AREA_FRACTION = 0.002
"""Regions smaller than this share of the analysed frame are ignored."""

_CLEAN_KERNEL = cv2.getStructuringElement(cv2.MORPH_RECT, (3, 3))


class MotionAnalyser:
    """Keeps the background model across frames and boxes what moves."""

    def __init__(
        self,
        sensitivity: float = DEFAULT_SENSITIVITY,
        min_area_fraction: float = DEFAULT_MIN_AREA_FRACTION,
    ) -> None:
        self._subtractor = cv2.createBackgroundSubtractorMOG2(
            history=BACKGROUND_HISTORY_FRAMES, varThreshold=sensitivity, detectShadows=False
        )
        self._min_area_fraction = min_area_fraction
        self._frames_seen = 0
        self._frames_with_motion = 0
        self._max_regions = 0

    def analyse(self, frame_index: int, image: Image) -> list[Detection]:
        """One ``motion`` box per moving region, with its moving-pixel area."""
        small, scale = shrink_to_width(image, ANALYSIS_WIDTH)
        grey = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY)
        self._frames_seen += 1
        if self._frames_seen == 1:
            self._subtractor.apply(grey, learningRate=1.0)
            return []
        mask = self._subtractor.apply(grey, learningRate=BACKGROUND_LEARNING_RATE)
        cleaned = cv2.morphologyEx(mask, cv2.MORPH_OPEN, _CLEAN_KERNEL)
        joined = cv2.dilate(cleaned, _CLEAN_KERNEL, iterations=2)
        contours, _ = cv2.findContours(joined, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        min_area = self._min_area_fraction * cleaned.shape[0] * cleaned.shape[1]
        detections: list[Detection] = []
        for contour in contours:
            x, y, width, height = (int(value) for value in cv2.boundingRect(contour))
            region = cleaned[y : y + height, x : x + width]
            moving_pixels = int(cv2.countNonZero(region))
            if moving_pixels < min_area:
                continue
            # The dilation only joins fragments; the box hugs the moving pixels.
            inner_x, inner_y, inner_width, inner_height = cv2.boundingRect(region)
            tight = (x + inner_x, y + inner_y, int(inner_width), int(inner_height))
            detections.append(
                {
                    "label": "motion",
                    "bbox": box_to_full_size(tight, scale, image),
                    "area": round(moving_pixels * scale * scale),
                }
            )
        if detections:
            self._frames_with_motion += 1
            self._max_regions = max(self._max_regions, len(detections))
        return detections

    def summary(self) -> dict[str, Any]:
        """How much of the video moved."""
        return {
            "frames_with_motion": self._frames_with_motion,
            "max_regions_in_a_frame": self._max_regions,
        }


def _make_analyser(args: Mapping[str, Any]) -> MotionAnalyser:
    return MotionAnalyser(
        sensitivity=float_option(
            args, "sensitivity", DEFAULT_SENSITIVITY, minimum=1.0, maximum=1_000.0
        ),
        min_area_fraction=float_option(
            args, "min_area_fraction", DEFAULT_MIN_AREA_FRACTION, minimum=0.0, maximum=1.0
        ),
    )


class MotionPlugin(BuiltinPlugin):
    """Finds what moves against a static background."""

    def __init__(self) -> None:
        super().__init__(
            plugin_id="motion",
            name="Motion detection",
            description=(
                "Finds moving regions against a learned static background (MOG2 background "
                "subtraction) and reports one box per region and frame."
            ),
            tools=[
                BuiltinTool(
                    id="detect_motion",
                    description=(
                        "Boxes the moving regions of each frame (options: sensitivity, "
                        "min_area_fraction)."
                    ),
                    output_description=(
                        f"{FRAMES_OUTPUT_DESCRIPTION}; detections are "
                        '{"label": "motion", "bbox": [x1, y1, x2, y2], "area": pixels}; '
                        "summary adds frames_with_motion and max_regions_in_a_frame."
                    ),
                    make_analyser=_make_analyser,
                )
            ],
        )
