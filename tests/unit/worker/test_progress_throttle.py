"""The progress throttle and heartbeat schedule: pure units, so properties over many cases."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.worker.progress_throttle import (
    MAX_REPORTS_PER_ATTEMPT,
    REPORT_STEP_PERCENT,
    RUNNING_PERCENT_CEILING,
    HeartbeatSchedule,
    ProgressReport,
    ProgressThrottle,
    heartbeat_interval_for_lease,
    running_percent,
)


def run_attempt(calls: Sequence[tuple[int, int | None]]) -> list[tuple[int, ProgressReport]]:
    """Feed ``(current_frame, total_frames)`` calls; the reports, with the call index."""
    throttle = ProgressThrottle()
    reports = []
    for index, (current, total) in enumerate(calls):
        report = throttle.observe(current, total)
        if report is not None:
            reports.append((index, report))
    assert throttle.reports_sent == len(reports)
    return reports


def frames_of(actual_frames: int, estimated_total: int | None) -> list[tuple[int, int | None]]:
    """The calls a tool makes: once per frame, 1-based, against one estimate."""
    return [(frame, estimated_total) for frame in range(1, actual_frames + 1)]


def assert_honest(reports: list[tuple[int, ProgressReport]]) -> None:
    """Within budget, first call reported, percentages rising strictly and capped at 99."""
    assert len(reports) <= MAX_REPORTS_PER_ATTEMPT
    assert reports, "the first call must always be reported"
    assert reports[0][0] == 0
    percents = [report.percent for _, report in reports if report.percent is not None]
    assert percents == sorted(set(percents))
    assert all(0 <= percent <= RUNNING_PERCENT_CEILING for percent in percents)
    buckets = [percent // REPORT_STEP_PERCENT for percent in percents]
    assert buckets == sorted(set(buckets)), "two reports inside one 5% bucket"


@pytest.mark.parametrize("frames", [1, 7, 99, 100, 1_000, 100_000])
def test_exact_totals_report_first_frame_and_every_bucket_once(frames: int) -> None:
    reports = run_attempt(frames_of(frames, frames))

    assert_honest(reports)
    assert reports[0][1] == ProgressReport(1, frames, running_percent(1, frames))
    # Complete: every frame that enters a new bucket is reported, and only those.
    expected_frames, highest = [], -1
    for frame in range(1, frames + 1):
        bucket = running_percent(frame, frames) // REPORT_STEP_PERCENT
        if bucket > highest:
            expected_frames.append(frame)
            highest = bucket
    assert [report.current_frame for _, report in reports] == expected_frames
    last_percent = reports[-1][1].percent
    assert last_percent is not None
    assert 95 <= last_percent <= RUNNING_PERCENT_CEILING


def test_long_video_reports_twenty_times_never_per_frame() -> None:
    reports = run_attempt(frames_of(100_000, 100_000))

    assert [report.percent for _, report in reports] == [0, *range(5, 100, 5)]


def test_a_single_frame_video_shows_99_not_100_while_running() -> None:
    reports = run_attempt(frames_of(1, 1))

    assert [report for _, report in reports] == [ProgressReport(1, 1, 99)]


def test_the_last_bucket_is_reported_once_at_95() -> None:
    reports = run_attempt(frames_of(200, 200))

    assert reports[-1][1] == ProgressReport(190, 200, 95)


def test_under_estimated_total_parks_at_99_without_further_reports() -> None:
    reports = run_attempt(frames_of(500, 100))

    assert_honest(reports)
    assert reports[-1][1] == ProgressReport(95, 100, 95)
    # Frames 96-500 fall in the capped last bucket: no report, never above 99.
    assert all(report.current_frame <= 100 for _, report in reports)


def test_over_estimated_total_stops_reporting_where_frames_end() -> None:
    reports = run_attempt(frames_of(500, 1_000))

    assert_honest(reports)
    assert reports[-1][1] == ProgressReport(500, 1_000, 50)
    assert len(reports) == 11


@pytest.mark.parametrize("unknown", [None, 0, -1, -9_223_372_036_854_775_807])
def test_unknown_total_reports_the_first_frame_without_a_percentage(unknown: int | None) -> None:
    reports = run_attempt(frames_of(1_000, unknown))

    assert [report for _, report in reports] == [ProgressReport(1, None, None)]


def test_total_that_becomes_known_starts_percentages() -> None:
    calls = [(1, None), (2, None), (3, 100), (4, 100), (10, 100)]

    reports = run_attempt(calls)

    assert [report for _, report in reports] == [
        ProgressReport(1, None, None),
        ProgressReport(3, 100, 3),
        ProgressReport(10, 100, 10),
    ]


def test_total_revised_upwards_never_lowers_the_percentage() -> None:
    calls = [(50, 100), (51, 1_000), (300, 1_000), (600, 1_000)]

    reports = run_attempt(calls)

    assert [report.percent for _, report in reports] == [50, 60]


def test_frames_are_one_based() -> None:
    with pytest.raises(ValueError, match="1-based"):
        ProgressThrottle().observe(0, 10)


def test_last_report_is_kept_for_heartbeats() -> None:
    throttle = ProgressThrottle()
    assert throttle.last_report is None
    throttle.observe(1, 10)
    throttle.observe(2, 10)

    assert throttle.last_report == ProgressReport(2, 10, 20)


@pytest.mark.parametrize(
    ("current", "total", "percent"),
    [(1, 3, 33), (2, 3, 66), (3, 3, 99), (4, 3, 99), (1, 1_000, 0), (999, 1_000, 99)],
)
def test_running_percent_floors_and_caps(current: int, total: int, percent: int) -> None:
    assert running_percent(current, total) == percent


def test_running_percent_needs_a_total() -> None:
    with pytest.raises(ValueError, match="positive"):
        running_percent(1, 0)


estimated_totals = st.one_of(st.none(), st.integers(-5, 0), st.integers(1, 6_000))


@settings(max_examples=150, deadline=None)
@given(actual=st.integers(1, 3_000), estimate=estimated_totals)
def test_any_video_and_any_estimate_stays_honest(actual: int, estimate: int | None) -> None:
    reports = run_attempt(frames_of(actual, estimate))

    assert_honest(reports)
    known = estimate is not None and estimate > 0
    assert all((report.percent is not None) == known for _, report in reports)
    if known and estimate is not None and actual >= estimate:
        # The estimate is exhausted: the last bucket was reported, then silence.
        last = reports[-1][1]
        assert last.percent is not None
        assert last.percent >= 95
        assert last.current_frame <= estimate


@settings(max_examples=150, deadline=None)
@given(
    calls=st.lists(st.tuples(st.integers(1, 100_000), estimated_totals), min_size=1, max_size=400)
)
def test_arbitrary_call_sequences_stay_within_budget_and_monotonic(
    calls: list[tuple[int, int | None]],
) -> None:
    reports = run_attempt(calls)

    assert_honest(reports)
    assert sum(report.percent is None for _, report in reports) <= 1


# Heartbeat schedule


def test_heartbeat_is_due_only_after_a_quiet_interval() -> None:
    schedule = HeartbeatSchedule(interval_seconds=10.0, started_at=100.0)

    assert not schedule.is_due(109.9)
    assert schedule.is_due(110.0)
    assert schedule.seconds_until_due(104.0) == pytest.approx(6.0)
    assert schedule.seconds_until_due(125.0) == 0.0


def test_any_write_postpones_the_heartbeat() -> None:
    schedule = HeartbeatSchedule(interval_seconds=10.0, started_at=0.0)
    schedule.record_write(8.0)

    assert not schedule.is_due(17.0)
    assert schedule.is_due(18.0)


def test_a_late_recorded_earlier_write_does_not_move_the_schedule_back() -> None:
    schedule = HeartbeatSchedule(interval_seconds=5.0, started_at=0.0)
    schedule.record_write(20.0)
    schedule.record_write(12.0)

    assert not schedule.is_due(24.0)


def test_heartbeat_interval_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        HeartbeatSchedule(interval_seconds=0.0, started_at=0.0)


@settings(max_examples=100, deadline=None)
@given(
    interval=st.floats(0.5, 60.0),
    writes=st.lists(st.floats(0.0, 1_000.0), max_size=30),
    now=st.floats(0.0, 1_100.0),
)
def test_heartbeat_due_exactly_when_the_last_write_is_older_than_the_interval(
    interval: float, writes: list[float], now: float
) -> None:
    schedule = HeartbeatSchedule(interval_seconds=interval, started_at=0.0)
    for moment in writes:
        schedule.record_write(moment)
    last = max([0.0, *writes])

    assert schedule.is_due(now) == (now - last >= interval)
    assert schedule.seconds_until_due(now) == pytest.approx(max(0.0, last + interval - now))


@pytest.mark.parametrize(("lease", "interval"), [(30.0, 10.0), (3.0, 2.0), (120.0, 40.0)])
def test_heartbeat_interval_renews_the_lease_well_before_it_expires(
    lease: float, interval: float
) -> None:
    assert heartbeat_interval_for_lease(lease) == pytest.approx(interval)


def test_lease_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        heartbeat_interval_for_lease(0)
