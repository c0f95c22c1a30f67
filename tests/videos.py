"""Real test videos, made with OpenCV inside the tests, and files whose metadata lies.

The OpenCV wheel cannot encode H.264, so videos use ``mp4v`` (in .mp4) or
``MJPG``/``XVID`` (in .avi). Every writer is checked: ``isOpened()`` after
creation, and after writing the file must report and decode exactly the
frames written, so a test never runs on a silently broken fixture.

The scenes are chosen so the expected answer is known by construction: a box
moving over a static background (motion), flat colours with hard cuts (scene
cuts), a drawn pedestrian silhouette and a drawn face that OpenCV's own HOG
and Haar detectors recognise (people and faces).
"""

from __future__ import annotations

import math
import struct
import wave
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

Frame = NDArray[np.uint8]
Box = tuple[int, int, int, int]
"""``(x1, y1, x2, y2)`` in pixels, x2/y2 exclusive."""

CONTAINER_FOR_FOURCC = {"mp4v": ".mp4", "MJPG": ".avi", "XVID": ".avi"}

RED, GREEN, BLUE, GREY = (0, 0, 255), (0, 255, 0), (255, 0, 0), (128, 128, 128)
"""Flat BGR colours far apart in every histogram."""


def write_video(path: Path, frames: Sequence[Frame], *, fourcc: str, fps: float = 25.0) -> Path:
    """Encode ``frames`` (BGR, all one size) and check the file decodes to as many."""
    if not frames:
        raise ValueError("a video needs at least one frame")
    expected_suffix = CONTAINER_FOR_FOURCC[fourcc]
    if path.suffix != expected_suffix:
        raise ValueError(f"{fourcc} videos are written as {expected_suffix}, not {path.suffix}")
    height, width = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*fourcc), fps, (width, height))
    if not writer.isOpened():
        raise RuntimeError(f"OpenCV cannot write {fourcc} to {path.name}")
    try:
        for frame in frames:
            writer.write(frame)
    finally:
        writer.release()
    reported, decoded = probe_video(path)
    if reported != len(frames) or decoded != len(frames):
        raise RuntimeError(
            f"{path.name}: wrote {len(frames)} frames, header says {reported}, decoded {decoded}"
        )
    return path


def probe_video(path: Path) -> tuple[int, int]:
    """``(CAP_PROP_FRAME_COUNT, frames actually decoded)``, straight from OpenCV."""
    capture = cv2.VideoCapture(str(path))
    try:
        if not capture.isOpened():
            return -1, 0
        reported = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
        decoded = 0
        while capture.grab():
            decoded += 1
        return reported, decoded
    finally:
        capture.release()


def solid_frame(width: int, height: int, colour: tuple[int, int, int]) -> Frame:
    """One frame of a single BGR colour."""
    frame = np.empty((height, width, 3), dtype=np.uint8)
    frame[:] = colour
    return frame


def gradient_background(width: int, height: int) -> Frame:
    """A static, smooth, textured background (flat frames hide compression problems)."""
    xs = np.linspace(40, 200, width, dtype=np.float32)
    ys = np.linspace(30, 120, height, dtype=np.float32)
    frame = np.empty((height, width, 3), dtype=np.uint8)
    frame[..., 0] = ys[:, None] * 0.5 + 60
    frame[..., 1] = xs[None, :] * 0.6 + 20
    frame[..., 2] = (xs[None, :] + ys[:, None]) * 0.4 + 30
    return frame


@dataclass(frozen=True)
class MovingBoxVideo:
    """A box that appears, moves right, and disappears over a static background."""

    path: Path
    frame_count: int
    width: int
    height: int
    boxes: dict[int, Box]
    """Where the box is drawn, by 0-based frame index; absent frames have no box."""


def make_moving_box_video(
    path: Path,
    *,
    width: int = 160,
    height: int = 120,
    frame_count: int = 60,
    moving_frames: range = range(20, 45),
    box_size: int = 24,
    step: int = 3,
    fourcc: str = "mp4v",
) -> MovingBoxVideo:
    """A white box moving ``step`` px per frame during ``moving_frames``, else nothing."""
    background = gradient_background(width, height)
    frames: list[Frame] = []
    boxes: dict[int, Box] = {}
    top = (height - box_size) // 2
    for index in range(frame_count):
        frame = background.copy()
        if index in moving_frames:
            left = 8 + (index - moving_frames.start) * step
            box = (left, top, left + box_size, top + box_size)
            if box[2] > width:
                raise ValueError(
                    "the box would leave the frame; use fewer frames or a smaller step"
                )
            cv2.rectangle(frame, (box[0], box[1]), (box[2] - 1, box[3] - 1), (255, 255, 255), -1)
            boxes[index] = box
        frames.append(frame)
    write_video(path, frames, fourcc=fourcc)
    return MovingBoxVideo(path, frame_count, width, height, boxes)


@dataclass(frozen=True)
class SceneCutVideo:
    """Flat-colour scenes joined by hard cuts."""

    path: Path
    frame_count: int
    cut_frames: tuple[int, ...]
    """0-based index of the first frame of every scene after the first."""


def make_scene_cut_video(
    path: Path,
    *,
    scenes: Sequence[tuple[tuple[int, int, int], int]],
    width: int = 96,
    height: int = 72,
    fourcc: str = "MJPG",
) -> SceneCutVideo:
    """One flat colour per scene, ``(bgr, frame count)`` each, cut hard to the next."""
    frames: list[Frame] = []
    cuts: list[int] = []
    for colour, length in scenes:
        if frames:
            cuts.append(len(frames))
        frames.extend(solid_frame(width, height, colour) for _ in range(length))
    write_video(path, frames, fourcc=fourcc)
    return SceneCutVideo(path, len(frames), tuple(cuts))


def draw_face(frame: Frame, centre: tuple[int, int], size: int) -> Box:
    """A simple frontal face (skin oval, brows, eyes, nose, mouth); returns its box."""
    cx, cy = centre
    half_w, half_h = int(size * 0.32), int(size * 0.42)
    cv2.ellipse(frame, (cx, cy), (half_w, half_h), 0, 0, 360, (150, 170, 210), -1)
    for side in (-1, 1):
        eye_x, eye_y = cx + side * int(size * 0.13), cy - int(size * 0.1)
        cv2.ellipse(
            frame,
            (eye_x, eye_y),
            (int(size * 0.07), int(size * 0.035)),
            0,
            0,
            360,
            (40, 40, 40),
            -1,
        )
        brow_y = eye_y - int(size * 0.07)
        cv2.line(
            frame,
            (eye_x - int(size * 0.08), brow_y),
            (eye_x + int(size * 0.08), brow_y),
            (60, 60, 60),
            3,
        )
    cv2.line(frame, (cx, cy - int(size * 0.05)), (cx, cy + int(size * 0.12)), (120, 130, 170), 3)
    cv2.ellipse(
        frame,
        (cx, cy + int(size * 0.22)),
        (int(size * 0.1), int(size * 0.03)),
        0,
        0,
        360,
        (60, 60, 120),
        -1,
    )
    return (cx - half_w, cy - half_h, cx + half_w, cy + half_h)


def draw_person(frame: Frame, centre_x: int, top: int, height: int) -> Box:
    """A dark standing pedestrian silhouette (head, torso, arms, legs); returns its box."""
    unit = height / 8
    colour = (40, 40, 40)

    def polygon(points: Sequence[tuple[float, float]]) -> None:
        cv2.fillPoly(frame, [np.array(points, dtype=np.int32)], colour)

    cv2.circle(frame, (centre_x, int(top + unit * 0.6)), int(unit * 0.55), colour, -1)
    polygon(
        [
            (centre_x - unit * 0.25, top + unit * 1.1),
            (centre_x + unit * 0.25, top + unit * 1.1),
            (centre_x + unit * 0.25, top + unit * 1.4),
            (centre_x - unit * 0.25, top + unit * 1.4),
        ]
    )
    polygon(
        [
            (centre_x - unit, top + unit * 1.4),
            (centre_x + unit, top + unit * 1.4),
            (centre_x + unit * 0.8, top + unit * 4.2),
            (centre_x - unit * 0.8, top + unit * 4.2),
        ]
    )
    for side in (-1, 1):
        polygon(
            [
                (centre_x + side * unit, top + unit * 1.4),
                (centre_x + side * unit * 1.35, top + unit * 1.6),
                (centre_x + side * unit * 1.2, top + unit * 4.3),
                (centre_x + side * unit * 0.95, top + unit * 4.3),
            ]
        )
        polygon(
            [
                (centre_x + side * unit * 0.05, top + unit * 4.2),
                (centre_x + side * unit * 0.8, top + unit * 4.2),
                (centre_x + side * unit * 0.7, top + unit * 8),
                (centre_x + side * unit * 0.2, top + unit * 8),
            ]
        )
    half_width = round(unit * 1.35)
    return (centre_x - half_width, top, centre_x + half_width, top + height)


@dataclass(frozen=True)
class FigureVideo:
    """Plain frames, with a drawn figure (person or face) in some of them."""

    path: Path
    frame_count: int
    boxes: dict[int, Box]
    """Where the figure is drawn, by 0-based frame index."""


def make_person_video(
    path: Path, *, frame_count: int, person_frames: range, width: int = 320, height: int = 240
) -> FigureVideo:
    """A grey scene with a 140 px tall silhouette in ``person_frames``."""
    frames: list[Frame] = []
    boxes: dict[int, Box] = {}
    for index in range(frame_count):
        frame = solid_frame(width, height, (190, 190, 190))
        if index in person_frames:
            boxes[index] = draw_person(frame, width // 2, (height - 140) // 2, 140)
        frames.append(frame)
    write_video(path, frames, fourcc="MJPG")
    return FigureVideo(path, frame_count, boxes)


def make_face_video(
    path: Path, *, frame_count: int, face_frames: range, width: int = 320, height: int = 240
) -> FigureVideo:
    """A light grey scene with a 120 px face in ``face_frames``."""
    frames: list[Frame] = []
    boxes: dict[int, Box] = {}
    for index in range(frame_count):
        frame = solid_frame(width, height, (200, 200, 200))
        if index in face_frames:
            boxes[index] = draw_face(frame, (width // 2, height // 2), 120)
        frames.append(frame)
    write_video(path, frames, fourcc="MJPG")
    return FigureVideo(path, frame_count, boxes)


def make_flat_video(path: Path, *, frame_count: int, fourcc: str = "MJPG") -> Path:
    """A short video of one flat colour: a valid file in which nothing happens."""
    frames = [solid_frame(160, 120, (90, 120, 150)) for _ in range(frame_count)]
    return write_video(path, frames, fourcc=fourcc)


# Files whose metadata lies, or that are not videos at all.


def truncated_copy(source: Path, target: Path, keep_fraction: float) -> Path:
    """The first ``keep_fraction`` of ``source``'s bytes, as if a download broke off.

    AVI and Matroska headers still claim the full frame count; an MP4 whose
    index sits at the end becomes unopenable.
    """
    data = source.read_bytes()
    target.write_bytes(data[: int(len(data) * keep_fraction)])
    return target


def avi_claiming_frame_count(source: Path, target: Path, claimed: int) -> Path:
    """A copy of an AVI whose headers claim ``claimed`` frames, whatever it holds.

    Both places a reader may take the count from are patched: ``dwTotalFrames``
    in the ``avih`` main header and ``dwLength`` in the video ``strh`` header.
    """
    data = bytearray(source.read_bytes())
    main_header = data.find(b"avih")
    stream_header = data.find(b"strh")
    if main_header < 0 or stream_header < 0:
        raise ValueError(f"{source.name} is not an AVI file")
    raw = claimed & 0xFFFFFFFF
    struct.pack_into("<I", data, main_header + 8 + 16, raw)
    struct.pack_into("<I", data, stream_header + 8 + 32, raw)
    target.write_bytes(bytes(data))
    return target


def avi_without_frame_data(source: Path, target: Path) -> Path:
    """An AVI cut right after its headers: it opens and claims frames, none decode.

    This is the shape of the worst lie (a codec OpenCV cannot decode behaves
    the same way): a plausible frame count and nothing behind it.
    """
    data = source.read_bytes()
    frame_list = data.find(b"movi")
    if frame_list < 0:
        raise ValueError(f"{source.name} is not an AVI file")
    target.write_bytes(data[: frame_list + 4])
    return target


def text_file_named_as_video(path: Path) -> Path:
    """Plain text under a video file name."""
    path.write_text("This is a shopping list, not a video.\n" * 20, encoding="utf-8")
    return path


def empty_file(path: Path) -> Path:
    """Zero bytes under a video file name."""
    path.write_bytes(b"")
    return path


def audio_only_file(path: Path, *, seconds: float = 1.0) -> Path:
    """A WAV tone: a real media file with no video stream."""
    rate = 8_000
    samples = b"".join(
        struct.pack("<h", int(8_000 * math.sin(2 * math.pi * 440 * i / rate)))
        for i in range(int(rate * seconds))
    )
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(samples)
    return path
