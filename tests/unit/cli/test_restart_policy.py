"""Restart with doubling pauses; give up after too many deaths in the window."""

from __future__ import annotations

from services.cli.stack.restart_policy import DeathRecord, GiveUp, Restart, RestartPolicy


def test_pauses_double_with_each_recent_death_up_to_the_cap() -> None:
    record = DeathRecord(RestartPolicy(max_deaths=10, first_delay_seconds=0.5, max_delay_seconds=3))
    delays = [record.record(now=float(second)) for second in range(6)]
    assert delays == [
        Restart(0.5, 1),
        Restart(1.0, 2),
        Restart(2.0, 3),
        Restart(3.0, 4),
        Restart(3.0, 5),
        Restart(3.0, 6),
    ]


def test_five_deaths_within_a_minute_give_up() -> None:
    record = DeathRecord(RestartPolicy())
    decisions = [record.record(now=t) for t in (0.0, 10.0, 20.0, 30.0, 59.0)]
    assert all(isinstance(d, Restart) for d in decisions[:4])
    assert decisions[4] == GiveUp(deaths=5, window_seconds=60.0)


def test_deaths_older_than_the_window_are_forgotten() -> None:
    record = DeathRecord(RestartPolicy())
    for t in (0.0, 10.0, 20.0, 30.0):
        record.record(now=t)
    # 65 s: the death at 0 s has left the window, so this is the 4th recent one.
    assert record.record(now=65.0) == Restart(delay_seconds=4.0, recent_deaths=4)
    # Long after, a single death restarts promptly again.
    assert record.record(now=500.0) == Restart(delay_seconds=0.5, recent_deaths=1)


def test_the_policy_describes_itself_for_the_help_text() -> None:
    text = RestartPolicy().describe()
    assert "0.5 s doubling to 10 s" in text
    assert "5 deaths within 60 s stop everything" in text
