"""Scene-cut detection: a cut is where consecutive colour histograms differ sharply.

A hard cut replaces the whole picture, so the colour distribution jumps; camera
motion and moving objects mostly keep it. Each frame is shrunk to
:data:`ANALYSIS_WIDTH` pixels wide (a histogram needs few samples, and this
keeps the tool close to the speed of decoding alone), binned into an
8 x 8 x 8 BGR histogram, and compared with the previous frame's by
Bhattacharyya distance (0 = same distribution, 1 = disjoint). A distance at or
above ``threshold`` marks the frame as the first of a new scene.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import cv2
from cv2.typing import MatLike

from services.worker.plugins._builtin import (
    FRAMES_OUTPUT_DESCRIPTION,
    BuiltinPlugin,
    BuiltinTool,
    float_option,
)
from services.worker.plugins._frames import Detection, Image, shrink_to_width

ANALYSIS_WIDTH = 64
DEFAULT_THRESHOLD = 0.5
HISTOGRAM_BINS = [8, 8, 8]
HISTOGRAM_RANGES = [0, 256, 0, 256, 0, 256]


class SceneCutAnalyser:
    """Compares each frame's colour histogram with the previous frame's."""

    def __init__(self, threshold: float = DEFAULT_THRESHOLD) -> None:
        self._threshold = threshold
        self._previous: MatLike | None = None
        self._cuts: list[int] = []

    def analyse(self, frame_index: int, image: Image) -> list[Detection]:
        """A ``scene_cut`` detection (scored by distance) on the first frame of a new scene."""
        small, _ = shrink_to_width(image, ANALYSIS_WIDTH)
        histogram = cv2.calcHist([small], [0, 1, 2], None, HISTOGRAM_BINS, HISTOGRAM_RANGES)
        previous, self._previous = self._previous, histogram
        if previous is None:
            return []
        distance = float(cv2.compareHist(previous, histogram, cv2.HISTCMP_BHATTACHARYYA))
        if distance < self._threshold:
            return []
        self._cuts.append(frame_index)
        return [{"label": "scene_cut", "score": round(distance, 4)}]

    def summary(self) -> dict[str, Any]:
        """The cut frames and the number of scenes they delimit."""
        return {
            "cuts": list(self._cuts),
            "scene_count": len(self._cuts) + 1,
            "threshold": self._threshold,
        }


def _make_analyser(args: Mapping[str, Any]) -> SceneCutAnalyser:
    return SceneCutAnalyser(
        threshold=float_option(args, "threshold", DEFAULT_THRESHOLD, minimum=0.01, maximum=1.0)
    )


class SceneCutPlugin(BuiltinPlugin):
    """Finds hard cuts between shots."""

    def __init__(self) -> None:
        super().__init__(
            plugin_id="scene_cuts",
            name="Scene cuts",
            description=(
                "Finds hard cuts between shots by comparing the colour histograms of "
                "consecutive frames."
            ),
            tools=[
                BuiltinTool(
                    id="detect_scene_cuts",
                    description=(
                        "Marks each frame that starts a new scene (option: threshold, "
                        f"Bhattacharyya distance 0.01-1, default {DEFAULT_THRESHOLD})."
                    ),
                    output_description=(
                        f"{FRAMES_OUTPUT_DESCRIPTION}; a cut frame holds one "
                        '{"label": "scene_cut", "score": distance}; summary adds '
                        "cuts (frame indices) and scene_count."
                    ),
                    make_analyser=_make_analyser,
                )
            ],
        )
