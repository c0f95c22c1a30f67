"""The ETA: linear from the job's own pace, and absent rather than wild."""

from __future__ import annotations

import pytest

from services.gateway.eta import done_fraction, eta_seconds


def test_frames_are_preferred_to_the_percentage() -> None:
    assert done_fraction(progress=40, current_frame=50, total_frames=100) == 0.5
    assert done_fraction(progress=40, current_frame=None, total_frames=100) == 0.4
    assert done_fraction(progress=None, current_frame=None, total_frames=None) is None


def test_a_total_that_was_underestimated_does_not_go_past_done() -> None:
    assert done_fraction(progress=None, current_frame=130, total_frames=100) == 1.0


def test_linear_estimate() -> None:
    # A quarter done in 10 s: 30 s to go.
    assert eta_seconds(elapsed_seconds=10, progress=25, current_frame=None, total_frames=None) == 30
    assert (
        eta_seconds(elapsed_seconds=10, progress=None, current_frame=100, total_frames=100) == 0.0
    )


@pytest.mark.parametrize(
    ("elapsed", "progress", "frame", "total"),
    [
        (10.0, None, None, None),  # no progress data
        (10.0, 0, None, None),  # nothing done yet
        (10.0, None, 0, 500),
        (10.0, None, 3, 0),  # no usable total, no percentage
        (0.0, 50, None, None),  # no time elapsed
    ],
)
def test_no_estimate_without_enough_to_go_on(
    elapsed: float, progress: int | None, frame: int | None, total: int | None
) -> None:
    assert (
        eta_seconds(
            elapsed_seconds=elapsed, progress=progress, current_frame=frame, total_frames=total
        )
        is None
    )
