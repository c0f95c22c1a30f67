"""``forgesyte smoke``: one real job through a running deployment, checked at every step.

The successor of ForgeSyte's ``scripts/smoke_test.py``. It talks to whatever
is at ``--addr`` over gRPC (the local stack, a Compose file, a Kubernetes
Service), or with ``--web URL`` to the gateway over REST and Server-Sent
Events, and checks what a client relies on, in the order a client meets it:

1. the deployment answers and some worker has advertised a video tool;
2. a small generated video is accepted;
3. every snapshot (GetJobStatus or the status route, then each
   WatchProgress message or event) has the documented shape: a known
   status string, and progress either null or an integer 0-100; beyond the
   shape it holds the progress rules (null while pending, at most 99 while
   running and never going back within an attempt, exactly 100 once
   completed);
4. the job completes within ``--wait`` seconds;
5. its results are a JSON object with ``frames`` and ``summary``.

The first deviation stops the run with one line saying what was expected
and what came back, and exit code 1 (3 when the deployment cannot be
reached). The rules live in :mod:`smoke_rules`, the two ways in in
:mod:`smoke_targets` and :mod:`smoke_rest`.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc

from services.cli.errors import CliError, ExitCode, from_rpc_error
from services.cli.formatting import format_bytes, format_elapsed
from services.cli.output import Output
from services.cli.smoke_rules import SmokeDeviation, Snapshot, results_problem, snapshot_problem
from services.cli.smoke_targets import SmokeTarget
from services.cli.tools import ToolNotFound, find_video_tool

DEFAULT_WAIT_SECONDS = 120.0


@dataclass
class SmokeRun:
    """What happened so far, for the human lines and the ``--json`` report."""

    target: str
    checks: list[dict[str, str]] = field(default_factory=list)
    job_id: str | None = None
    plugin_id: str | None = None
    tool: str | None = None

    def report(self, ok: bool, error: str | None) -> dict[str, Any]:
        return {
            "ok": ok,
            "target": self.target,
            "job_id": self.job_id,
            "plugin_id": self.plugin_id,
            "tool": self.tool,
            "checks": self.checks,
            "error": error,
        }


class SmokeTest:
    def __init__(
        self,
        target: SmokeTarget,
        out: Output,
        *,
        plugin: str | None,
        tool: str | None,
        wait_seconds: float,
        addr: str,
    ) -> None:
        self._target = target
        self._out = out
        self._plugin = plugin
        self._tool = tool
        self._wait = wait_seconds
        self._addr = addr
        self.run = SmokeRun(target.where)

    async def execute(self) -> ExitCode:
        """Run every step; exit 0, or raise the first deviation as a :class:`CliError`."""
        started = time.monotonic()
        try:
            await self._steps()
        except SmokeDeviation as deviation:
            return self._fail(CliError(f"smoke test failed: {deviation}", ExitCode.NOT_COMPLETED))
        except grpc.aio.AioRpcError as error:
            return self._fail(from_rpc_error(error, self._addr))
        except CliError as error:
            return self._fail(error)
        took = format_elapsed(time.monotonic() - started)
        self._out.answer(
            self.run.report(True, None),
            lambda console: console.print(f"smoke test passed in {took}"),
        )
        return ExitCode.OK

    def _fail(self, error: CliError) -> ExitCode:
        if self._out.json_mode:
            self._out.json_line(self.run.report(False, error.message))
        raise error

    def _passed(self, name: str, detail: str) -> None:
        self.run.checks.append({"name": name, "detail": detail})
        if not self._out.json_mode:
            self._out.line(f"ok  {detail}")

    async def _steps(self) -> None:
        plugins = await self._target.plugins()
        self._passed("plugins", f"{self._target.where} answers; {len(plugins)} plugin(s)")
        try:
            plugin_id, tool = find_video_tool(plugins, self._plugin, self._tool)
        except ToolNotFound as error:
            raise SmokeDeviation(f"{error}; is a worker running?") from None
        self.run.plugin_id, self.run.tool = plugin_id, tool

        with tempfile.TemporaryDirectory(prefix="forgesyte-smoke-") as folder:
            video = _generate(Path(folder) / "smoke.mp4")
            size = video.stat().st_size
            self._passed("video", f"generated a small test video ({format_bytes(size)})")
            job_id = await self._target.submit(video, plugin_id, tool)
        self.run.job_id = job_id
        self._passed("submit", f"submitted job {job_id} to {plugin_id}/{tool}")

        fetched = await self._target.status(job_id)
        if fetched.job_id != job_id:
            raise SmokeDeviation(f"the status of job {job_id} came back for {fetched.job_id}")
        _check("status", fetched)
        self._passed("status", f"status: {fetched.describe()}")

        final = await self._follow(job_id)
        if final.status != "completed":
            reason = f": {final.error}" if final.error else ""
            raise SmokeDeviation(f"job {job_id} ended {final.status}{reason}")

        document = await self._target.results(job_id)
        problem = results_problem(document)
        if problem:
            raise SmokeDeviation(problem)
        frames = len(json.loads(document)["frames"])
        self._passed(
            "results",
            f"results: a JSON object with 'frames' ({frames}) and 'summary' "
            f"({format_bytes(len(document))})",
        )

    async def _follow(self, job_id: str) -> Snapshot:
        seen: list[Snapshot] = []

        def check(snapshot: Snapshot) -> None:
            _check("progress", snapshot, seen[-1] if seen else None)
            seen.append(snapshot)

        try:
            async with asyncio.timeout(self._wait):
                final = await self._target.follow(job_id, check)
        except TimeoutError:
            last = seen[-1].describe() if seen else "nothing"
            raise SmokeDeviation(
                f"job {job_id} did not finish within {self._wait:g} s (last seen: {last})"
            ) from None
        progress = sorted({s.progress for s in seen if isinstance(s.progress, int)})
        self._passed(
            "watch",
            f"followed {len(seen)} update(s) to {final.status}; progress seen "
            f"{', '.join(map(str, progress)) or 'none'}",
        )
        return final


def _check(source: str, snapshot: Snapshot, previous: Snapshot | None = None) -> None:
    problem = snapshot_problem(snapshot, previous)
    if problem:
        raise SmokeDeviation(f"{source}: {problem}")


def _generate(path: Path) -> Path:
    # Imported here: OpenCV and NumPy add a noticeable pause to every other
    # command's start-up, and only this one needs them.
    from services.cli.smoke_video import make_smoke_video

    try:
        return make_smoke_video(path)
    except (RuntimeError, OSError) as error:
        raise CliError(f"cannot make the smoke test video: {error}", ExitCode.USAGE) from None
