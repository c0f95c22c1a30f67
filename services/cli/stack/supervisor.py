"""Keep a set of child processes running: start in order, restart the dead, stop all.

Components start tier by tier (the job API, then the workers, then the
gateway), each tier only once the one before is healthy, because each
needs the one before to be useful. A component that fails while first
starting stops everything at once: that is a configuration problem (a port
in use, a bad setting) that restarting cannot fix, and its last log line
usually says which. Once healthy, a component that dies is reported in one
line and restarted according to :mod:`restart_policy`; if it keeps dying,
everything stops and :meth:`Supervisor.run` returns the reason.

Stopping goes the other way, tier by tier from the last: the gateway and
the workers stop (workers hand their running jobs back) while the job API
is still there to receive them, then the job API stops.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from services.cli.stack.children import Child, ChildSpec, spawn
from services.cli.stack.readiness import Probe
from services.cli.stack.restart_policy import DeathRecord, GiveUp, RestartPolicy

DEFAULT_START_TIMEOUT_SECONDS = 60.0
DEFAULT_STOP_GRACE_SECONDS = 15.0
PROBE_INTERVAL_SECONDS = 0.2


@dataclass(frozen=True)
class Component:
    """A service to keep running: how to start it, when it counts as healthy."""

    spec: ChildSpec
    tier: int
    ready: Probe

    @property
    def name(self) -> str:
        return self.spec.name


class StackFailure(Exception):
    """Everything must stop; the message says why in one line."""


class _StopRequested(Exception):
    pass


class Supervisor:
    def __init__(
        self,
        components: Sequence[Component],
        *,
        say: Callable[[str], None],
        policy: RestartPolicy | None = None,
        start_timeout_seconds: float = DEFAULT_START_TIMEOUT_SECONDS,
        stop_grace_seconds: float = DEFAULT_STOP_GRACE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._components = list(components)
        self._say = say
        self.policy = policy or RestartPolicy()
        self._start_timeout = start_timeout_seconds
        self._stop_grace = stop_grace_seconds
        self._clock = clock
        self._children: dict[str, Child] = {}
        self._spawning: set[asyncio.Task[Child]] = set()
        self._hurry = asyncio.Event()

    @property
    def children(self) -> dict[str, Child]:
        """The current process of each component started so far, by name."""
        return dict(self._children)

    async def run(
        self, stop: asyncio.Event, hurry: asyncio.Event, on_ready: Callable[[], None]
    ) -> str | None:
        """Run until ``stop`` is set (returns None) or everything must stop (returns why).

        ``on_ready`` is called once, when every component is first healthy.
        Setting ``hurry`` cuts the stop grace short (a second Ctrl-C).
        Every child is stopped and reaped before this returns.
        """
        self._hurry = hurry
        slots: dict[asyncio.Task[None], _Slot] = {}
        stop_wait = asyncio.ensure_future(stop.wait())
        try:
            for _, tier in itertools.groupby(self._by_tier(), key=lambda c: c.tier):
                started = [_Slot(component, self) for component in tier]
                for slot in started:
                    slots[asyncio.create_task(slot.keep_running(), name=slot.name)] = slot
                await self._until(slots, stop_wait, [slot.ready for slot in started])
            on_ready()
            await self._until(slots, stop_wait, [asyncio.Event()])  # until stopped or failed
        except _StopRequested:
            return None
        except StackFailure as failure:
            return str(failure)
        finally:
            stop_wait.cancel()
            for task in slots:
                task.cancel()
            await asyncio.gather(stop_wait, *slots, return_exceptions=True)
            await self._stop_all()
        raise AssertionError("unreachable: _until only ends by raising")  # pragma: no cover

    def _by_tier(self) -> list[Component]:
        return sorted(self._components, key=lambda c: c.tier)

    async def _until(
        self,
        slots: dict[asyncio.Task[None], _Slot],
        stop_wait: asyncio.Task[Any],
        events: Sequence[asyncio.Event],
    ) -> None:
        """Return once every event is set; raise if a slot failed or stop was asked."""
        waiters = [asyncio.ensure_future(event.wait()) for event in events]
        try:
            while True:
                for task, slot in slots.items():
                    if task.done():
                        error = task.exception()
                        if isinstance(error, StackFailure):
                            raise error
                        raise StackFailure(f"{slot.name}: supervision failed: {error!r}")
                if stop_wait.done():
                    raise _StopRequested
                if all(event.is_set() for event in events):
                    return
                pending: list[asyncio.Future[Any]] = [*slots, stop_wait, *waiters]
                await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
            await asyncio.gather(*waiters, return_exceptions=True)

    async def spawn(self, spec: ChildSpec) -> Child:
        """Start a child and register it, even if the caller is cancelled meanwhile."""
        task = asyncio.ensure_future(spawn(spec))
        self._spawning.add(task)

        def register(done: asyncio.Task[Child]) -> None:
            self._spawning.discard(done)
            if not done.cancelled() and done.exception() is None:
                self._children[spec.name] = done.result()

        task.add_done_callback(register)
        return await asyncio.shield(task)

    async def wait_healthy(self, child: Child, probe: Probe) -> str | None:
        """None once ``probe`` passes; otherwise why not (the child is then stopped)."""
        deadline = self._clock() + self._start_timeout
        while child.returncode is None:
            if await probe() and child.returncode is None:
                return None
            if self._clock() >= deadline:
                await child.stop(self._stop_grace, self._hurry)
                return f"did not become healthy within {self._start_timeout:g} s"
            await asyncio.sleep(PROBE_INTERVAL_SECONDS)
        return child.exit_description()

    def say(self, text: str) -> None:
        self._say(text)

    def now(self) -> float:
        return self._clock()

    async def _stop_all(self) -> None:
        if self._spawning:
            await asyncio.gather(*self._spawning, return_exceptions=True)
        for _, tier in itertools.groupby(reversed(self._by_tier()), key=lambda c: c.tier):
            running = [self._children[c.name] for c in tier if c.name in self._children]
            await asyncio.gather(*(child.stop(self._stop_grace, self._hurry) for child in running))


class _Slot:
    """One component kept alive: start, wait until healthy, wait for death, decide."""

    def __init__(self, component: Component, supervisor: Supervisor) -> None:
        self.component = component
        self.name = component.name
        self.ready = asyncio.Event()
        self._supervisor = supervisor
        self._deaths = DeathRecord(supervisor.policy)

    async def keep_running(self) -> None:
        supervisor = self._supervisor
        log_path = self.component.spec.log_path
        while True:
            try:
                child = await supervisor.spawn(self.component.spec)
            except OSError as error:
                raise StackFailure(f"cannot start {self.name}: {error}") from None
            problem = await supervisor.wait_healthy(child, self.component.ready)
            if problem is None:
                again = " again" if self.ready.is_set() else ""
                supervisor.say(f"{self.name} is healthy{again} (pid {child.pid})")
                self.ready.set()
                await child.wait()
                problem = child.exit_description()
            elif not self.ready.is_set():
                last = child.last_log_line()
                raise StackFailure(
                    f"{self.name} {problem} while starting"
                    + (f": {last}" if last else "")
                    + f" (log: {log_path})"
                )
            decision = self._deaths.record(supervisor.now())
            if isinstance(decision, GiveUp):
                raise StackFailure(
                    f"{self.name} (pid {child.pid}) {problem}; it died {decision.deaths} times "
                    f"within {decision.window_seconds:g} s, so everything stops (log: {log_path})"
                )
            supervisor.say(
                f"{self.name} (pid {child.pid}) {problem}; restarting it in "
                f"{decision.delay_seconds:g} s (log: {log_path})"
            )
            await asyncio.sleep(decision.delay_seconds)
