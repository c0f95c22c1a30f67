"""When a supervised child dies: restart it after a pause, or give up.

A child that dies is restarted, after a pause that doubles with every
recent death (0.5 s, 1 s, 2 s, 4 s ... at most 10 s), so a transient
failure heals quickly while a crashing child does not spin the CPU. Deaths
older than the window are forgotten, so a child that dies once a day is
restarted promptly every time. A child that dies ``max_deaths`` times within
the window (5 in 60 s by default) is crash-looping: nothing a restart can
fix, so the supervisor stops everything and says so.

Pure: the caller passes the clock, so the policy is tested without waiting.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass


@dataclass(frozen=True)
class RestartPolicy:
    max_deaths: int = 5
    window_seconds: float = 60.0
    first_delay_seconds: float = 0.5
    max_delay_seconds: float = 10.0

    def describe(self) -> str:
        return (
            f"restarted with backoff ({self.first_delay_seconds:g} s doubling to "
            f"{self.max_delay_seconds:g} s); {self.max_deaths} deaths within "
            f"{self.window_seconds:g} s stop everything"
        )


@dataclass(frozen=True)
class Restart:
    """Start the child again after ``delay_seconds``."""

    delay_seconds: float
    recent_deaths: int


@dataclass(frozen=True)
class GiveUp:
    """The child keeps dying: stop everything."""

    deaths: int
    window_seconds: float


class DeathRecord:
    """The recent deaths of one child, and what to do about the next one."""

    def __init__(self, policy: RestartPolicy) -> None:
        self._policy = policy
        self._deaths: deque[float] = deque()

    def record(self, now: float) -> Restart | GiveUp:
        """Note a death at ``now`` (monotonic seconds) and decide."""
        window = self._policy.window_seconds
        self._deaths.append(now)
        while self._deaths and self._deaths[0] <= now - window:
            self._deaths.popleft()
        recent = len(self._deaths)
        if recent >= self._policy.max_deaths:
            return GiveUp(recent, window)
        delay = self._policy.first_delay_seconds * 2 ** (recent - 1)
        return Restart(min(delay, self._policy.max_delay_seconds), recent)
