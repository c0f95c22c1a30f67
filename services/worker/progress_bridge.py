"""Carries progress out of a running tool and stop requests back into it.

A plugin tool runs in a worker thread and calls ``progress_callback`` once
per frame. The callback must cost next to nothing, so it only asks the pure
throttle whether a report is due and, if so, hands it to the event loop,
which sends it. In the other direction, the event loop may ask the tool to
stop (cancellation was requested, the lease was lost, the worker is shutting
down): the next callback then raises ``JobCancelled``, the one exception
every tool lets through, and the attempt looks at ``stop_reason`` to decide
what to tell the job API.
"""

from __future__ import annotations

import asyncio
import enum
import threading

from services.worker.plugin_api import JobCancelled
from services.worker.progress_throttle import ProgressReport, ProgressThrottle


class StopReason(enum.Enum):
    """Why a tool was asked to stop."""

    CANCELLED = "cancellation was requested"
    LEASE_LOST = "the lease was lost"
    SHUTTING_DOWN = "the worker is shutting down"


class ProgressBridge:
    """One attempt's link between the tool thread and the event loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._throttle = ProgressThrottle()
        self._reports: asyncio.Queue[ProgressReport] = asyncio.Queue()
        self._stop = threading.Event()
        self._stop_reason: StopReason | None = None
        self.frames_seen = 0

    # -- tool thread --------------------------------------------------------

    def callback(self, current_frame: int, total_frames: int) -> None:
        """The ``progress_callback`` handed to the tool."""
        if self._stop.is_set():
            raise JobCancelled(self._stop_reason.value if self._stop_reason else "stopped")
        self.frames_seen = max(self.frames_seen, current_frame)
        report = self._throttle.observe(current_frame, total_frames)
        if report is not None:
            self._loop.call_soon_threadsafe(self._reports.put_nowait, report)

    # -- event loop ---------------------------------------------------------

    async def next_report(self, within_seconds: float) -> ProgressReport | None:
        """The next report due, or None if none came within the given time."""
        try:
            return await asyncio.wait_for(self._reports.get(), max(within_seconds, 0.0))
        except TimeoutError:
            return None

    def request_stop(self, reason: StopReason) -> None:
        """Stop the tool at its next frame; the first reason given wins."""
        if self._stop_reason is None:
            self._stop_reason = reason
        self._stop.set()

    @property
    def stop_reason(self) -> StopReason | None:
        return self._stop_reason
