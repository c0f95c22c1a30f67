"""Backoff delays double up to a ceiling and start again after a reset."""

from __future__ import annotations

from services.common.backoff import Backoff


def test_delays_double_up_to_the_ceiling_and_reset() -> None:
    backoff = Backoff(initial=0.2, ceiling=1.0, jitter=False)
    assert [backoff.delay() for _ in range(5)] == [0.2, 0.4, 0.8, 1.0, 1.0]
    backoff.reset()
    assert backoff.delay() == 0.2


def test_jitter_stays_within_the_upper_half_of_each_delay() -> None:
    backoff = Backoff(initial=1.0, ceiling=4.0)
    for expected in (1.0, 2.0, 4.0, 4.0):
        assert expected / 2 <= backoff.delay() <= expected
