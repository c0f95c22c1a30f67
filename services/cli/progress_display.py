"""Progress on screen: the upload bar and the live job bar (rich), or plain lines.

On a terminal, rich draws the bars and redraws them several times a second;
the job bar's text is computed at each redraw, so the ETA counts down
between the worker's reports (which come once per 5% of the video). When
stderr is a file or a pipe (CI logs, ``2> log``) redrawing would only fill
the log with control codes, so each change becomes one plain line instead.
With ``--json`` the snapshots themselves go to stdout, one per line.

While a job runs without progress data the bar pulses and says "progress
not available": the job API deliberately sends no percentage then, and
drawing 0% would claim something it does not know.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.text import Text

from services.cli.formatting import format_bytes, format_elapsed, progress_detail
from services.cli.output import Output
from services.cli.rates import ThroughputMeter
from services.cli.views import JobView

REFRESHES_PER_SECOND = 4
BAR_WIDTH = 24


class UploadProgress(Protocol):
    def advance(self, sent: int) -> None: ...


class _UploadBar:
    def __init__(self, progress: Progress, task: TaskID) -> None:
        self._progress = progress
        self._task = task

    def advance(self, sent: int) -> None:
        self._progress.advance(self._task, sent)


class _UploadCounter:
    def __init__(self) -> None:
        self.sent = 0

    def advance(self, sent: int) -> None:
        self.sent += sent


@contextmanager
def upload_progress(out: Output, name: str, size: int) -> Iterator[UploadProgress]:
    """A bar while ``name`` uploads; without a terminal, one line once it is done."""
    if out.interactive:
        progress = Progress(
            TextColumn("upload {task.description}"),
            BarColumn(bar_width=BAR_WIDTH),
            DownloadColumn(binary_units=True),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            console=out.err_console,
            refresh_per_second=REFRESHES_PER_SECOND,
        )
        with progress:
            yield _UploadBar(progress, progress.add_task(name, total=size))
        return
    counter = _UploadCounter()
    started = time.monotonic()
    yield counter
    if not out.json_mode:
        elapsed = format_elapsed(time.monotonic() - started)
        out.note(f"uploaded {name} ({format_bytes(counter.sent)}) in {elapsed}")


class JobTracker:
    """The latest snapshot of one job, its speed, and the line describing it."""

    def __init__(self) -> None:
        self._meter = ThroughputMeter()
        self.latest: JobView | None = None
        self._received_at = 0.0

    def observe(self, job: JobView) -> None:
        self._meter.observe(job)
        self.latest = job
        self._received_at = time.monotonic()

    def detail(self) -> str:
        if self.latest is None:
            return "connecting"
        since = time.monotonic() - self._received_at
        return progress_detail(
            self.latest, self._meter.frames_per_second, self._meter.eta_seconds(since)
        )


class _DetailColumn(ProgressColumn):
    """Percent, frame x/y, frames/s and ETA, recomputed at every redraw."""

    def __init__(self, tracker: JobTracker) -> None:
        super().__init__()
        self._tracker = tracker

    def render(self, task: Task) -> Text:
        return Text(self._tracker.detail())


class JobProgressView(Protocol):
    def show(self, job: JobView) -> None: ...


class _LiveJobBar:
    def __init__(self, progress: Progress, tracker: JobTracker) -> None:
        self._progress = progress
        self._tracker = tracker
        self._task: TaskID | None = None

    def show(self, job: JobView) -> None:
        self._tracker.observe(job)
        # No total makes rich pulse the bar: "working, amount unknown".
        known = job.progress is not None
        total = 100 if known else None
        completed = job.progress or 0
        if self._task is None:
            self._task = self._progress.add_task(f"job {job.job_id[:8]}", total=total)
        self._progress.update(self._task, total=total, completed=completed)


class _PlainJobLines:
    def __init__(self, out: Output, tracker: JobTracker) -> None:
        self._out = out
        self._tracker = tracker

    def show(self, job: JobView) -> None:
        self._tracker.observe(job)
        if not job.terminal:  # the outcome line that follows says how it ended
            self._out.note(f"job {job.job_id[:8]}: {self._tracker.detail()}")


class _JsonJobLines:
    def __init__(self, out: Output) -> None:
        self._out = out

    def show(self, job: JobView) -> None:
        self._out.json_line(job.to_json())


@contextmanager
def job_progress(out: Output) -> Iterator[JobProgressView]:
    """The right view of a job's snapshots for where the output goes."""
    if out.json_mode:
        yield _JsonJobLines(out)
        return
    tracker = JobTracker()
    if not out.interactive:
        yield _PlainJobLines(out, tracker)
        return
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(bar_width=BAR_WIDTH),
        _DetailColumn(tracker),
        console=out.err_console,
        refresh_per_second=REFRESHES_PER_SECOND,
    )
    with progress:
        yield _LiveJobBar(progress, tracker)
