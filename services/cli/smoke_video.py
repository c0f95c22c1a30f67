"""The small video ``forgesyte smoke`` uploads, made on the spot with OpenCV.

Generating it means the smoke test needs no fixture file shipped next to
the CLI, and exercises the same codec path real uploads take. The OpenCV
wheel cannot encode H.264, so it is MPEG-4 Part 2 (``mp4v``) in an .mp4,
which every OpenCV build decodes. A white box moves across a static
gradient, so motion tools find something and scene tools find one scene.
The file is checked after writing: a smoke test must never fail (or pass)
because of a broken input.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

WIDTH, HEIGHT = 160, 120
FRAMES = 40
FPS = 20.0
BOX = 20


def make_smoke_video(path: Path, frames: int = FRAMES) -> Path:
    """Write the video to ``path`` (an .mp4) and check it decodes to ``frames`` frames."""
    xs = np.linspace(40, 200, WIDTH, dtype=np.float32)
    ys = np.linspace(30, 120, HEIGHT, dtype=np.float32)
    background = np.empty((HEIGHT, WIDTH, 3), dtype=np.uint8)
    background[..., 0] = ys[:, None] * 0.5 + 60
    background[..., 1] = xs[None, :] * 0.6 + 20
    background[..., 2] = (xs[None, :] + ys[:, None]) * 0.4 + 30
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"mp4v"), FPS, (WIDTH, HEIGHT))
    if not writer.isOpened():
        raise RuntimeError(f"OpenCV cannot write an mp4v video to {path}")
    top = (HEIGHT - BOX) // 2
    step = (WIDTH - BOX - 8) / max(1, frames - 1)
    try:
        for index in range(frames):
            frame = background.copy()
            left = 4 + int(index * step)
            cv2.rectangle(frame, (left, top), (left + BOX - 1, top + BOX - 1), (255, 255, 255), -1)
            writer.write(frame)
    finally:
        writer.release()
    decoded = _decoded_frames(path)
    if decoded != frames:
        raise RuntimeError(f"the generated video decodes to {decoded} frames, not {frames}")
    return path


def _decoded_frames(path: Path) -> int:
    capture = cv2.VideoCapture(str(path))
    try:
        count = 0
        while capture.isOpened() and capture.grab():
            count += 1
        return count
    finally:
        capture.release()
