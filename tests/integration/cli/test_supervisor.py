"""The supervisor with real child processes: order, restarts, giving up, stopping for sure.

The children are tiny Python programs whose behaviour is the point of
each test (sleep, die after a moment, ignore SIGTERM, fail at start); the
restart policy is the real one with short pauses so the tests stay fast.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import psutil

from services.cli.stack.children import ChildSpec
from services.cli.stack.restart_policy import RestartPolicy
from services.cli.stack.supervisor import Component, Supervisor

FAST = RestartPolicy(max_deaths=3, window_seconds=60, first_delay_seconds=0.05)

SLEEP = "import time; time.sleep(60)"
DIE_SOON = "import sys, time; time.sleep(0.3); sys.exit(3)"
IGNORE_SIGTERM = (
    "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
    "print('ready', flush=True); time.sleep(60)"
)
FAIL_AT_START = "import sys; print('bad setting FORGESYTE_X', file=sys.stderr); sys.exit(2)"


def record_sigterm(name: str, journal: Path) -> str:
    """A child that notes its name in ``journal`` when asked to stop, then exits.

    It creates ``journal.<name>.ready`` once its handler is in place: its health.
    """
    return (
        "import pathlib, signal, sys, time\n"
        "def stop(*_):\n"
        f"    open({str(journal)!r}, 'a').write({name!r} + '\\n')\n"
        "    sys.exit(0)\n"
        "signal.signal(signal.SIGTERM, stop)\n"
        f"pathlib.Path({str(journal)!r} + '.{name}.ready').touch()\n"
        "time.sleep(60)\n"
    )


async def healthy() -> bool:
    return True


async def never_healthy() -> bool:
    return False


def component(
    tmp_path: Path,
    name: str,
    code: str,
    tier: int = 0,
    ready: Callable[[], Awaitable[bool]] = healthy,
) -> Component:
    spec = ChildSpec(name, [sys.executable, "-c", code], {}, tmp_path / "logs" / f"{name}.log")
    return Component(spec, tier, ready)


class Harness:
    """Runs a supervisor in the background and collects what it says."""

    def __init__(self, supervisor: Supervisor) -> None:
        self.supervisor = supervisor
        self.said: list[str] = []
        self.ready = asyncio.Event()
        self.stop = asyncio.Event()
        self.hurry = asyncio.Event()
        self.pids: list[int] = []

    async def run(self) -> str | None:
        return await self.supervisor.run(self.stop, self.hurry, self._on_ready)

    def _on_ready(self) -> None:
        self.pids = [child.pid for child in self.supervisor.children.values()]
        self.ready.set()

    async def said_matching(self, text: str, within: float = 10.0) -> str:
        async with asyncio.timeout(within):
            while True:
                for line in self.said:
                    if text in line:
                        return line
                await asyncio.sleep(0.02)


def harness(components: list[Component], **options: object) -> Harness:
    said: list[str] = []
    supervisor = Supervisor(components, say=said.append, **options)  # type: ignore[arg-type]
    result = Harness(supervisor)
    result.said = said
    return result


def gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


async def test_tiers_start_in_order_and_stop_in_reverse(tmp_path: Path) -> None:
    journal = tmp_path / "stopped.txt"
    started: list[str] = []

    def probe(name: str) -> Callable[[], Awaitable[bool]]:
        async def check() -> bool:
            ready = await asyncio.to_thread(Path(f"{journal}.{name}.ready").exists)
            if ready:
                started.append(name)
            return ready

        return check

    names = ["api", "worker", "gateway"]
    h = harness(
        [
            component(tmp_path, name, record_sigterm(name, journal), tier, probe(name))
            for tier, name in reversed(list(enumerate(names)))
        ]
    )
    running = asyncio.create_task(h.run())
    await asyncio.wait_for(h.ready.wait(), 10)
    assert started == names
    assert len(h.pids) == 3
    assert not any(gone(pid) for pid in h.pids)

    h.stop.set()
    assert await asyncio.wait_for(running, 10) is None
    assert journal.read_text().split() == ["gateway", "worker", "api"]
    assert all(gone(pid) for pid in h.pids)
    assert all(child.returncode == 0 for child in h.supervisor.children.values())


async def test_a_child_that_dies_is_reported_and_restarted(tmp_path: Path) -> None:
    policy = RestartPolicy(max_deaths=50, first_delay_seconds=0.05)
    h = harness([component(tmp_path, "flaky", DIE_SOON)], policy=policy)
    running = asyncio.create_task(h.run())
    await asyncio.wait_for(h.ready.wait(), 10)
    first_pid = h.pids[0]

    line = await h.said_matching("restarting")
    assert line == (
        f"flaky (pid {first_pid}) exited with code 3; restarting it in 0.05 s "
        f"(log: {tmp_path / 'logs' / 'flaky.log'})"
    )
    assert "flaky is healthy again (pid" in await h.said_matching("healthy again")
    assert h.supervisor.children["flaky"].pid != first_pid

    h.stop.set()
    assert await asyncio.wait_for(running, 10) is None
    assert gone(h.supervisor.children["flaky"].pid)


async def test_a_child_that_keeps_dying_stops_everything(tmp_path: Path) -> None:
    h = harness(
        [component(tmp_path, "steady", SLEEP), component(tmp_path, "flaky", DIE_SOON, tier=1)],
        policy=FAST,
    )
    failure = await asyncio.wait_for(h.run(), 20)
    assert failure is not None
    assert failure.startswith("flaky (pid ")
    assert "exited with code 3; it died 3 times within 60 s, so everything stops" in failure
    assert len([line for line in h.said if "restarting" in line]) == 2
    assert all(gone(child.pid) for child in h.supervisor.children.values())


async def test_a_failure_while_starting_stops_everything_with_its_last_line(
    tmp_path: Path,
) -> None:
    h = harness(
        [
            component(tmp_path, "api", SLEEP),
            component(tmp_path, "worker", FAIL_AT_START, 1, never_healthy),
        ],
        policy=FAST,
    )
    failure = await asyncio.wait_for(h.run(), 20)
    log = tmp_path / "logs" / "worker.log"
    assert failure == (
        f"worker exited with code 2 while starting: bad setting FORGESYTE_X (log: {log})"
    )
    assert not h.ready.is_set()
    assert gone(h.supervisor.children["api"].pid)
    assert "starting worker" in log.read_text()


async def test_a_child_that_never_becomes_healthy_stops_everything(tmp_path: Path) -> None:
    h = harness(
        [component(tmp_path, "stuck", SLEEP, ready=never_healthy)],
        start_timeout_seconds=0.5,
        stop_grace_seconds=2,
    )
    failure = await asyncio.wait_for(h.run(), 20)
    assert failure is not None
    assert failure.startswith("stuck did not become healthy within 0.5 s while starting")
    assert gone(h.supervisor.children["stuck"].pid)


async def test_a_child_ignoring_sigterm_is_killed_after_the_grace(tmp_path: Path) -> None:
    h = harness([component(tmp_path, "stubborn", IGNORE_SIGTERM)], stop_grace_seconds=0.5)
    running = asyncio.create_task(h.run())
    await asyncio.wait_for(h.ready.wait(), 10)
    await asyncio.sleep(0.3)  # let it install its handler
    started = time.monotonic()
    h.stop.set()
    assert await asyncio.wait_for(running, 10) is None
    assert 0.4 < time.monotonic() - started < 5
    child = h.supervisor.children["stubborn"]
    assert child.returncode == -9
    assert gone(child.pid)


async def test_hurry_skips_the_grace(tmp_path: Path) -> None:
    h = harness([component(tmp_path, "stubborn", IGNORE_SIGTERM)], stop_grace_seconds=60)
    running = asyncio.create_task(h.run())
    await asyncio.wait_for(h.ready.wait(), 10)
    await asyncio.sleep(0.3)
    h.stop.set()
    await asyncio.sleep(0.2)
    h.hurry.set()
    assert await asyncio.wait_for(running, 5) is None
    assert h.supervisor.children["stubborn"].returncode == -9
