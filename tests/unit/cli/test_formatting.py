"""The words and numbers people read: durations, sizes, the progress line."""

from __future__ import annotations

import pytest

from services.cli.formatting import (
    NO_PROGRESS,
    WAITING,
    format_bytes,
    format_duration,
    format_elapsed,
    format_percent,
    format_rate,
    job_summary_lines,
    progress_detail,
)
from tests.unit.cli.factories import JOB_ID, snapshot


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0:00"), (0.2, "0:01"), (59.5, "1:00"), (75.2, "1:16"), (3725, "1:02:05"), (-3, "0:00")],
)
def test_durations_round_up_so_an_eta_never_promises_early(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


@pytest.mark.parametrize(("seconds", "text"), [(0.04, "0.0 s"), (12.34, "12.3 s"), (61, "1:01")])
def test_elapsed_times_keep_tenths_below_a_minute(seconds: float, text: str) -> None:
    assert format_elapsed(seconds) == text


@pytest.mark.parametrize(
    ("size", "text"),
    [(0, "0 B"), (1023, "1023 B"), (1536, "1.5 KiB"), (5 * 1024**3, "5.0 GiB")],
)
def test_sizes_use_binary_units(size: int, text: str) -> None:
    assert format_bytes(size) == text


@pytest.mark.parametrize(
    ("fps", "text"), [(0.423, "0.42 frames/s"), (7.46, "7.5 frames/s"), (240.4, "240 frames/s")]
)
def test_rates_keep_the_digits_that_matter(fps: float, text: str) -> None:
    assert format_rate(fps) == text


def test_no_progress_data_is_a_dash_never_zero_percent() -> None:
    assert format_percent(None) == "-"
    assert format_percent(0) == "0%"


def test_a_running_job_shows_percent_frames_rate_and_eta() -> None:
    job = snapshot(progress=42, frame=84, total=200)
    assert progress_detail(job, fps=12.0, eta=9.6) == ("42%  frame 84/200  12.0 frames/s  ETA 0:10")


def test_a_running_job_without_progress_says_so() -> None:
    assert progress_detail(snapshot(progress=None)) == NO_PROGRESS == "progress not available"


def test_unknown_totals_rates_and_etas_are_left_out() -> None:
    assert progress_detail(snapshot(progress=None, frame=30)) == f"{NO_PROGRESS}  frame 30"


def test_cancellation_and_retries_are_visible() -> None:
    job = snapshot(progress=10, cancel_requested=True, attempt=2)
    assert progress_detail(job) == "10%  (cancelling)  (attempt 2 of 3)"


@pytest.mark.parametrize(
    ("job", "text"),
    [
        (snapshot("pending", started=None), WAITING),
        (snapshot("completed", progress=100), "completed"),
        (snapshot("failed", error="cannot decode the video"), "failed: cannot decode the video"),
        (snapshot("failed"), "failed"),
        (snapshot("cancelled"), "cancelled"),
    ],
)
def test_other_states_are_one_word_or_the_reason(job: object, text: str) -> None:
    assert progress_detail(job) == text  # type: ignore[arg-type]


def test_status_lines_label_every_known_fact_and_skip_unknown_ones() -> None:
    lines = job_summary_lines(snapshot(progress=None, frame=12, total=40))
    labels = [line.split()[0] for line in lines]
    assert labels == [
        "job",
        "status",
        "progress",
        "plugin",
        "file",
        "attempt",
        "created",
        "started",
    ]
    assert lines[0].endswith(JOB_ID)
    assert lines[2] == f"progress  {NO_PROGRESS}  frame 12/40"
    assert lines[3] == "plugin    motion/detect_motion"
    assert lines[4] == "file      clip.mp4 (2.0 KiB)"


def test_status_lines_show_the_error_of_a_failed_job() -> None:
    lines = job_summary_lines(snapshot("failed", cancel_requested=True, error="boom"))
    assert "status    failed (cancel requested)" in lines
    assert lines[-1] == "error     boom"
