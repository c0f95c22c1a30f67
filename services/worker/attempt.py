"""One attempt at one job: download, count frames, run the tool, hand back.

Outcomes, and what the job API is told:

* the tool returned results          -> CompleteJob (progress becomes 100)
* the input is not a usable video,
  or the plugin raised               -> FailJob, not retryable: another try
                                        would fail the same way
* cancellation was requested         -> AcknowledgeCancellation
* the worker is shutting down        -> ReleaseJob, so another worker takes
                                        it at once
* the lease was lost                 -> nothing: the job is someone else's now

While the attempt runs, a reporter task sends the throttled progress
reports, and a heartbeat when none was due for a while, which renews the
lease and brings back a pending cancellation even when frames are slow.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
import structlog

from services.worker.client import ClaimedJob, LeaseLost, WorkerClient
from services.worker.frame_count import UnreadableVideo, estimate_frame_count
from services.worker.plugin_api import JobCancelled, PluginError, PluginRegistry
from services.worker.progress_bridge import ProgressBridge, StopReason
from services.worker.progress_throttle import HeartbeatSchedule, heartbeat_interval_for_lease

log = structlog.get_logger(__name__)

_SAFE_SUFFIX = re.compile(r"^\.[A-Za-z0-9]{1,8}$")


class AttemptStopped(Exception):
    """The attempt ended early for the reason the bridge holds."""


@dataclass
class AttemptStats:
    """What one attempt did, for logs, benchmarks and the worker's history."""

    job_id: str = ""
    attempt: int = 0
    started_at: float = 0.0
    """``time.monotonic()`` when the attempt began."""
    ended_at: float = 0.0
    outcome: str = "running"
    progress_writes: int = 0
    heartbeats: int = 0
    frames: int = 0
    seconds: dict[str, float] = field(default_factory=dict)


@dataclass(eq=False)  # compared (and hashed) by identity: the worker keeps a set of them
class Attempt:
    """Runs a claimed job to one of its outcomes."""

    client: WorkerClient
    registry: PluginRegistry
    claimed: ClaimedJob
    track_progress: bool = True
    stats: AttemptStats = field(default_factory=AttemptStats)

    def __post_init__(self) -> None:
        self.bridge = ProgressBridge(asyncio.get_running_loop())

    def stop(self, reason: StopReason) -> None:
        """Ask the attempt to stop at the tool's next frame."""
        self.bridge.request_stop(reason)

    async def run(self) -> AttemptStats:
        job = self.claimed.job
        self.stats.job_id, self.stats.attempt = job.job_id, job.attempt
        self.stats.started_at = time.monotonic()
        structlog.contextvars.bind_contextvars(job_id=job.job_id)
        reporter = asyncio.create_task(self._report_progress(), name=f"reporter-{job.job_id}")
        try:
            with tempfile.TemporaryDirectory(prefix="forgesyte-job-") as scratch:
                await self._run_in(Path(scratch))
        except LeaseLost as error:
            self.stats.outcome = "lease lost"
            log.warning("lease lost; abandoning the attempt", reason=str(error))
        finally:
            reporter.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reporter
            self.stats.ended_at = time.monotonic()
            structlog.contextvars.unbind_contextvars("job_id")
        log.info(
            "attempt finished",
            outcome=self.stats.outcome,
            frames=self.stats.frames,
            progress_writes=self.stats.progress_writes,
            heartbeats=self.stats.heartbeats,
        )
        return self.stats

    async def _run_in(self, scratch: Path) -> None:
        job, lease = self.claimed.job, self.claimed.lease
        video = scratch / f"input{_suffix(job.original_filename)}"
        try:
            with self._timed("download"):
                await self.client.download_input(lease, video)
            self._check_stop()
            with self._timed("count_frames"):
                estimate = await asyncio.to_thread(estimate_frame_count, video)
            log.info("frames estimated", frames=estimate.frames, method=estimate.method.value)
            self._check_stop()
            with self._timed("tool"):
                results = await asyncio.to_thread(
                    self.registry.run_plugin_tool,
                    job.plugin_id,
                    job.tool,
                    {"video_path": str(video), "total_frames": estimate.frames},
                    self.bridge.callback if self.track_progress else None,
                )
        except (JobCancelled, AttemptStopped):
            await self._stopped()
            return
        except UnreadableVideo as error:
            await self._fail(str(error))
            return
        except PluginError as error:
            await self._fail(f"{job.plugin_id}/{job.tool}: {error}")
            return
        except LeaseLost:
            raise
        except Exception as error:
            log.exception("plugin tool failed")
            await self._fail(f"{job.plugin_id}/{job.tool} failed: {type(error).__name__}: {error}")
            return
        self.stats.frames = _frames_processed(results, self.bridge.frames_seen)
        results_file = scratch / "results.json"
        with self._timed("save_results"):
            await asyncio.to_thread(_write_json, results, results_file)
        with self._timed("upload_results"):
            await self.client.complete(lease, results_file, self.stats.frames or None)
        self.stats.outcome = "completed"

    def _check_stop(self) -> None:
        if self.bridge.stop_reason is not None:
            raise AttemptStopped(self.bridge.stop_reason.value)

    async def _stopped(self) -> None:
        reason = self.bridge.stop_reason
        lease = self.claimed.lease
        if reason is StopReason.CANCELLED:
            await self.client.acknowledge_cancellation(lease)
            self.stats.outcome = "cancelled"
        elif reason is StopReason.SHUTTING_DOWN:
            await self.client.release(lease, reason.value)
            self.stats.outcome = "released"
        else:
            self.stats.outcome = "lease lost"

    async def _fail(self, message: str) -> None:
        log.warning("job failed", error=message)
        await self.client.fail(self.claimed.lease, message, retryable=False)
        self.stats.outcome = "failed"

    async def _report_progress(self) -> None:
        """Send due reports in order; heartbeat when none was due for a while."""
        clock = time.monotonic
        schedule = HeartbeatSchedule(
            heartbeat_interval_for_lease(self.claimed.lease_seconds), started_at=clock()
        )
        while True:
            report = await self.bridge.next_report(schedule.seconds_until_due(clock()))
            cancel = False
            try:
                if report is None:
                    cancel = await self.client.report(self.claimed.lease, None, None, None)
                    self.stats.heartbeats += 1
                else:
                    cancel = await self.client.report(
                        self.claimed.lease,
                        report.percent,
                        report.current_frame,
                        report.total_frames,
                    )
                    self.stats.progress_writes += 1
            except LeaseLost:
                self.bridge.request_stop(StopReason.LEASE_LOST)
                return
            except grpc.aio.AioRpcError as error:
                # Keep going: the next report or heartbeat may get through,
                # and if none does, the lease lapses and the job is retried.
                log.warning("progress report failed", code=error.code().name)
            schedule.record_write(clock())
            if cancel:
                self.bridge.request_stop(StopReason.CANCELLED)

    @contextlib.contextmanager
    def _timed(self, phase: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.stats.seconds[phase] = time.perf_counter() - started


def _suffix(filename: str) -> str:
    """Keep a plain extension (".mp4") as a hint for the decoder; nothing else."""
    suffix = Path(filename).suffix
    return suffix.lower() if _SAFE_SUFFIX.match(suffix) else ""


def _frames_processed(results: dict[str, Any], frames_seen: int) -> int:
    summary = results.get("summary")
    if isinstance(summary, dict) and isinstance(summary.get("total_frames"), int):
        return int(summary["total_frames"])
    return frames_seen


def _write_json(results: dict[str, Any], path: Path) -> None:
    with path.open("w", encoding="utf-8") as file:
        json.dump(results, file, separators=(",", ":"))
