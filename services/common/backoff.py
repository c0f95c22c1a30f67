"""Capped exponential backoff: how long to wait before trying again.

Shared by everything that retries a remote call or reconnects: the worker's
claim loop and calls, and the job API's database change feed.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field


@dataclass
class Backoff:
    """Delays that double from ``initial`` up to ``ceiling``; ``reset`` after a success.

    With ``jitter``, each delay is drawn from its upper half, so many clients
    that lost the same server do not all come back at the same instant.
    """

    initial: float
    ceiling: float
    jitter: bool = True
    _next: float = field(default=0.0, init=False)

    def reset(self) -> None:
        self._next = 0.0

    def delay(self) -> float:
        self._next = min(self.ceiling, self._next * 2 if self._next else self.initial)
        return self._next * random.uniform(0.5, 1.0) if self.jitter else self._next
