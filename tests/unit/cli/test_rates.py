"""Frames per second and ETA from snapshots, on the job API's clock."""

from __future__ import annotations

import pytest

from services.cli.rates import ThroughputMeter
from tests.unit.cli.factories import snapshot


def meter_after(*snapshots: object) -> ThroughputMeter:
    meter = ThroughputMeter()
    for job in snapshots:
        meter.observe(job)  # type: ignore[arg-type]
    return meter


def test_one_snapshot_gives_the_average_since_the_attempt_started() -> None:
    meter = meter_after(snapshot(progress=25, frame=50, total=200, started=0, updated=5))
    assert meter.frames_per_second == pytest.approx(10.0)
    assert meter.eta_seconds() == pytest.approx(15.0)


def test_later_snapshots_measure_the_pace_between_reports_not_the_start_up() -> None:
    # Four seconds went on opening the file before frame 1; then 20 frames/s.
    meter = meter_after(
        snapshot(progress=0, frame=1, total=201, started=0, updated=4),
        snapshot(progress=5, frame=11, total=201, started=0, updated=4.5),
        snapshot(progress=10, frame=21, total=201, started=0, updated=5),
    )
    assert meter.frames_per_second == pytest.approx(20.0)
    assert meter.eta_seconds() == pytest.approx(9.0)


def test_eta_counts_down_between_reports_and_never_goes_negative() -> None:
    meter = meter_after(snapshot(progress=50, frame=100, total=200, started=0, updated=10))
    assert meter.eta_seconds(seconds_since_snapshot=4) == pytest.approx(6.0)
    assert meter.eta_seconds(seconds_since_snapshot=60) == 0.0


def test_a_new_attempt_restarts_the_measurement() -> None:
    meter = meter_after(
        snapshot(progress=40, frame=80, total=200, attempt=1, started=0, updated=8),
        snapshot(progress=1, frame=2, total=200, attempt=2, started=20, updated=21),
    )
    # Only attempt 2 counts: 2 frames in the 1 s since it started.
    assert meter.frames_per_second == pytest.approx(2.0)
    assert meter.eta_seconds() == pytest.approx(99.0)


def test_without_frames_the_eta_comes_from_the_percentage() -> None:
    meter = meter_after(snapshot(progress=20, started=0, updated=10))
    assert meter.frames_per_second is None
    assert meter.eta_seconds() == pytest.approx(40.0)


@pytest.mark.parametrize(
    "job",
    [
        snapshot("pending", started=None),
        snapshot("running", progress=None, frame=None),
        snapshot("running", progress=None, frame=3, total=None, started=None),
        snapshot("completed", progress=100, frame=200, total=200, updated=10),
    ],
    ids=["pending", "no-data", "no-start-time", "finished"],
)
def test_unknowable_speed_and_eta_are_none_not_zero(job: object) -> None:
    meter = meter_after(job)
    assert meter.frames_per_second is None
    assert meter.eta_seconds() is None


def test_no_snapshot_yet_means_nothing_is_known() -> None:
    meter = ThroughputMeter()
    assert meter.frames_per_second is None
    assert meter.eta_seconds(3) is None
