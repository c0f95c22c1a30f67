"""When the worker should write progress: on the first frame, then per 5% crossed.

Tools call ``progress_callback(current_frame, total_frames)`` once per frame,
which is far too often to write to the job API. :class:`ProgressThrottle`
turns that stream into at most :data:`MAX_REPORTS_PER_ATTEMPT` reports,
whatever the video's length, and keeps the numbers honest:

* The first call is always reported, so the UI leaves "no progress data"
  as soon as work has really started.
* After that, a report is due only when the percentage enters a higher 5%
  bucket than the last report's; inside a bucket nothing is written.
* The percentage is capped at :data:`RUNNING_PERCENT_CEILING` (99): 100 means
  "completed" and is set by completion, never by a running job.
* Reported percentages never decrease, even when the total is revised upwards.
* The total is an estimate. Under-estimated (``current_frame > total_frames``)
  the percentage sits at 99 and no further reports follow. Over-estimated, the
  reports simply stop early; completion then jumps to 100.
* Unknown totals (``None`` or <= 0): the first call is still reported, with
  ``percent=None`` (the job shows frames done but no percentage); later calls
  report nothing until a usable total arrives.

Bound: one report without a percentage (only ever the first) plus one per
bucket 0..19 gives at most 21, inside the budget of 22 writes per attempt.

:class:`HeartbeatSchedule` covers the opposite problem, frames so slow that no
report is due for a long time while the lease runs out. The runtime records
each write it makes and asks, on a timer, whether a heartbeat is due; the
heartbeat write renews the lease and brings back a pending cancellation.

Both classes are pure: no I/O, no clock reads (time is passed in), and they
are not thread-safe, so confine each instance to one thread or guard it.
"""

from __future__ import annotations

from dataclasses import dataclass

REPORT_STEP_PERCENT = 5
"""Width of a progress bucket: one report per bucket entered."""

RUNNING_PERCENT_CEILING = 99
"""Highest percentage a running job may show; 100 is reserved for completion."""

MAX_REPORTS_PER_ATTEMPT = 22
"""Upper bound on reports per attempt (the throttle stays at or below 21)."""

LEASE_FRACTION_PER_HEARTBEAT = 1 / 3
"""Heartbeat after a third of the lease: two heartbeats may be lost before it expires."""

MIN_HEARTBEAT_INTERVAL_SECONDS = 2.0
"""No more than one heartbeat write every couple of seconds, however short the lease."""


@dataclass(frozen=True)
class ProgressReport:
    """One progress write: the frame reached, the total estimate, the percentage."""

    current_frame: int
    total_frames: int | None
    """``None`` when no usable total was known."""

    percent: int | None
    """0..99, or ``None`` when no usable total was known."""


def running_percent(current_frame: int, total_frames: int) -> int:
    """Percent done for a running job: floor, capped at 99. ``total_frames`` must be > 0."""
    if total_frames <= 0:
        raise ValueError(f"total_frames must be positive, got {total_frames}")
    return min(RUNNING_PERCENT_CEILING, max(0, current_frame) * 100 // total_frames)


class ProgressThrottle:
    """Decides, frame by frame, whether a progress report is due. One per attempt."""

    def __init__(self) -> None:
        self._reports_sent = 0
        self._last_bucket: int | None = None
        self._last_report: ProgressReport | None = None

    @property
    def reports_sent(self) -> int:
        """How many reports :meth:`observe` has returned so far."""
        return self._reports_sent

    @property
    def last_report(self) -> ProgressReport | None:
        """The most recent report returned, e.g. to repeat its numbers in a heartbeat."""
        return self._last_report

    def observe(self, current_frame: int, total_frames: int | None) -> ProgressReport | None:
        """Take one ``progress_callback`` call; return the report to write, if one is due.

        ``current_frame`` is 1-based (the number of frames done).
        """
        if current_frame < 1:
            raise ValueError(f"current_frame is 1-based, got {current_frame}")
        known_total = total_frames if total_frames is not None and total_frames > 0 else None
        if known_total is None:
            if self._reports_sent > 0:
                return None
            return self._emit(ProgressReport(current_frame, None, None), bucket=None)
        percent = running_percent(current_frame, known_total)
        bucket = percent // REPORT_STEP_PERCENT
        if self._last_bucket is not None and bucket <= self._last_bucket:
            return None
        return self._emit(ProgressReport(current_frame, known_total, percent), bucket=bucket)

    def _emit(self, report: ProgressReport, bucket: int | None) -> ProgressReport:
        self._reports_sent += 1
        self._last_report = report
        if bucket is not None:
            self._last_bucket = bucket
        return report


def heartbeat_interval_for_lease(lease_seconds: float) -> float:
    """A heartbeat interval that renews a lease of this length well before it expires."""
    if lease_seconds <= 0:
        raise ValueError(f"lease_seconds must be positive, got {lease_seconds}")
    return max(MIN_HEARTBEAT_INTERVAL_SECONDS, lease_seconds * LEASE_FRACTION_PER_HEARTBEAT)


class HeartbeatSchedule:
    """Says when a heartbeat is due: ``interval_seconds`` after the last write.

    Times are plain floats from one monotonic clock chosen by the caller
    (e.g. ``time.monotonic()``); the schedule never reads a clock itself.
    Record every write to the job API, progress reports included, so a
    heartbeat is sent only when nothing else has renewed the lease.
    """

    def __init__(self, interval_seconds: float, started_at: float) -> None:
        if interval_seconds <= 0:
            raise ValueError(f"interval_seconds must be positive, got {interval_seconds}")
        self._interval = interval_seconds
        self._last_write = started_at

    @property
    def interval_seconds(self) -> float:
        """Seconds of silence after which a heartbeat is due."""
        return self._interval

    def record_write(self, now: float) -> None:
        """Note that a write (report or heartbeat) reached the job API at ``now``."""
        self._last_write = max(self._last_write, now)

    def is_due(self, now: float) -> bool:
        """Whether ``interval_seconds`` have passed since the last recorded write."""
        return now - self._last_write >= self._interval

    def seconds_until_due(self, now: float) -> float:
        """How long a timer should sleep before asking again (0 when already due)."""
        return max(0.0, self._last_write + self._interval - now)
