"""One supervised child process: start it with its log file, stop it for sure.

Each child gets its own process group. A Ctrl-C at the terminal then
reaches only ``forgesyte up``, which stops the children in order (gateway
and workers before the job API they report to) instead of all of them
racing to exit at once. The group also lets a straggler be killed together
with anything it started.

Stopping is SIGTERM (every ForgeSyte service shuts down gracefully on it),
a grace period, then SIGKILL to the group; the process is always awaited,
so none is left a zombie. If ``up`` itself is killed, the kernel sends
each child SIGTERM (``parent_death.py``). The children's output goes to one
log file each (appended across restarts), because several JSON log streams
interleaved on the terminal would bury the few lines ``up`` itself has to
say.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Coroutine, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from services.cli.errors import one_line
from services.cli.stack.parent_death import stop_with_parent_hook

LOG_TAIL_BYTES = 8192


@dataclass(frozen=True)
class ChildSpec:
    """How to start one service."""

    name: str
    argv: Sequence[str]
    env: Mapping[str, str]
    log_path: Path


class Child:
    """A started process, its log, and how it ended."""

    def __init__(self, spec: ChildSpec, process: asyncio.subprocess.Process, log_offset: int):
        self.spec = spec
        self.process = process
        self._log_offset = log_offset

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def returncode(self) -> int | None:
        return self.process.returncode

    async def wait(self) -> int:
        return await self.process.wait()

    def exit_description(self) -> str:
        """``exited with code 2`` or ``was killed by SIGKILL``."""
        code = self.returncode
        if code is None:
            return "is still running"
        if code < 0:
            try:
                return f"was killed by {signal.Signals(-code).name}"
            except ValueError:
                return f"was killed by signal {-code}"
        return f"exited with code {code}"

    def last_log_line(self) -> str | None:
        """The last line this run wrote: usually the reason it stopped."""
        try:
            with self.spec.log_path.open("rb") as log:
                size = log.seek(0, os.SEEK_END)
                log.seek(max(self._log_offset, size - LOG_TAIL_BYTES))
                tail = log.read().decode("utf-8", errors="replace")
        except OSError:
            return None
        lines = [line for line in tail.splitlines() if line.strip()]
        return one_line(lines[-1], 300) if lines else None

    async def stop(self, grace_seconds: float, hurry: asyncio.Event) -> None:
        """SIGTERM, up to ``grace_seconds`` (less if ``hurry`` is set), then SIGKILL; reaped."""
        if self.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(signal.SIGTERM)
            await _first_of(self.process.wait(), hurry.wait(), limit_seconds=grace_seconds)
        if self.returncode is None:
            self.kill()
        await self.process.wait()

    def kill(self) -> None:
        """SIGKILL the child's whole process group (it leads it)."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signal.SIGKILL)


async def spawn(spec: ChildSpec) -> Child:
    """Start ``spec`` in its own process group, its output appended to its log."""
    spec.log_path.parent.mkdir(parents=True, exist_ok=True)
    with spec.log_path.open("ab") as log:
        stamp = time.strftime("%Y-%m-%d %H:%M:%S")
        log.write(f"--- forgesyte up: starting {spec.name} at {stamp} ---\n".encode())
        log.flush()
        offset = log.tell()
        process = await asyncio.create_subprocess_exec(
            *spec.argv,
            env=dict(spec.env),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            process_group=0,
            preexec_fn=stop_with_parent_hook(),
        )
    return Child(spec, process, offset)


async def _first_of(*waits: Coroutine[Any, Any, object], limit_seconds: float) -> None:
    tasks = [asyncio.ensure_future(wait) for wait in waits]
    try:
        await asyncio.wait(tasks, timeout=limit_seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
