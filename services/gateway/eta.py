"""How long a running job probably has left, from its own pace so far.

A plain linear estimate: if a fraction ``f`` of the work took ``t`` seconds,
the rest takes ``t * (1 - f) / f``. Frames are the finer measure, so they are
used when the worker reported them; otherwise the percentage. No estimate is
better than a wild one, so there is none before the first progress report or
while almost nothing is done yet.
"""

from __future__ import annotations

MIN_FRACTION = 0.01


def done_fraction(
    progress: int | None, current_frame: int | None, total_frames: int | None
) -> float | None:
    """The share of the work done, in (0, 1], or None when unknown."""
    if current_frame is not None and total_frames is not None and total_frames > 0:
        fraction = current_frame / total_frames
    elif progress is not None:
        fraction = progress / 100
    else:
        return None
    return min(fraction, 1.0) if fraction > 0 else None


def eta_seconds(
    *,
    elapsed_seconds: float,
    progress: int | None,
    current_frame: int | None,
    total_frames: int | None,
) -> float | None:
    """Seconds left, rounded to 0.1 s, or None when it cannot be estimated."""
    fraction = done_fraction(progress, current_frame, total_frames)
    if fraction is None or fraction < MIN_FRACTION or elapsed_seconds <= 0:
        return None
    return round(max(elapsed_seconds * (1 - fraction) / fraction, 0.0), 1)
