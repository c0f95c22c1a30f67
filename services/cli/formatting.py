"""Text for people: durations, sizes, and the one-line description of a job's progress.

The same words appear in the live bar, in the plain lines written when
stderr is not a terminal, and in ``status``: a person sees one vocabulary
whichever command they run. "progress not available" is spelled out rather
than shown as 0%, because the job API sends no percentage until a worker
has reported one (the job may still be working, e.g. on a plugin that
reports no progress).
"""

from __future__ import annotations

import math
from datetime import datetime

from services.cli.views import JobView

NO_PROGRESS = "progress not available"
WAITING = "waiting for a worker"

_BYTE_UNITS = ("B", "KiB", "MiB", "GiB", "TiB")


def format_duration(seconds: float) -> str:
    """``75.2`` → ``1:16``; ``3725`` → ``1:02:05`` (rounded up: an ETA should not promise early)."""
    total = max(0, math.ceil(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{secs:02d}"
    return f"{minutes}:{secs:02d}"


def format_elapsed(seconds: float) -> str:
    """How long something took: ``0.4 s`` below a minute, else like :func:`format_duration`."""
    if seconds < 60:
        return f"{max(0.0, seconds):.1f} s"
    return format_duration(seconds)


def format_bytes(size: int) -> str:
    """``1536`` → ``1.5 KiB``; bytes are shown whole."""
    value = float(size)
    for unit in _BYTE_UNITS:
        if value < 1024 or unit == _BYTE_UNITS[-1]:
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")  # pragma: no cover


def format_rate(fps: float) -> str:
    """Frames per second with precision that matters: ``0.42``, ``7.5``, ``240``."""
    if fps < 1:
        return f"{fps:.2f} frames/s"
    if fps < 100:
        return f"{fps:.1f} frames/s"
    return f"{fps:.0f} frames/s"


def format_time(moment: datetime | None) -> str:
    """A timestamp in the viewer's local time, to the second; ``-`` when absent."""
    if moment is None:
        return "-"
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def format_percent(progress: int | None) -> str:
    """``42%``, or ``-`` for no data (never ``0%``)."""
    return "-" if progress is None else f"{progress}%"


def progress_detail(job: JobView, fps: float | None = None, eta: float | None = None) -> str:
    """What the job is doing, in one line: percent, frame x/y, frames/s, ETA."""
    if job.status == "pending":
        return WAITING
    if job.status == "completed":
        return "completed"
    if job.status == "failed":
        return f"failed: {job.error_message}" if job.error_message else "failed"
    if job.status == "cancelled":
        return "cancelled"
    parts = [NO_PROGRESS if job.progress is None else f"{job.progress}%"]
    if job.current_frame is not None:
        total = f"/{job.total_frames}" if job.total_frames else ""
        parts.append(f"frame {job.current_frame}{total}")
    if fps is not None:
        parts.append(format_rate(fps))
    if eta is not None:
        parts.append(f"ETA {format_duration(eta)}")
    if job.cancel_requested:
        parts.append("(cancelling)")
    if job.attempt > 1:
        parts.append(f"(attempt {job.attempt} of {job.max_attempts})")
    return "  ".join(parts)


def job_summary_lines(job: JobView) -> list[str]:
    """``status``'s answer: one labelled line per fact, absent facts left out."""
    status = job.status + (" (cancel requested)" if job.cancel_requested else "")
    progress = format_percent(job.progress) if job.progress is not None else NO_PROGRESS
    if job.current_frame is not None:
        total = f"/{job.total_frames}" if job.total_frames else ""
        progress += f"  frame {job.current_frame}{total}"
    rows: list[tuple[str, str | None]] = [
        ("job", job.job_id),
        ("status", status),
        ("progress", progress),
        ("plugin", f"{job.plugin_id}/{job.tool}"),
        ("file", f"{job.original_filename} ({format_bytes(job.input_size_bytes)})"),
        ("attempt", f"{job.attempt} of {job.max_attempts}" if job.attempt else None),
        ("created", format_time(job.created_at)),
        ("started", format_time(job.started_at) if job.started_at else None),
        ("finished", format_time(job.finished_at) if job.finished_at else None),
        ("error", job.error_message),
    ]
    return [f"{label:<9} {value}" for label, value in rows if value is not None]
