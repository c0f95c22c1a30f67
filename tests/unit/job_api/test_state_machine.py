"""The job state machine and progress rules, on plain objects."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.job_api import state_machine as sm
from services.job_api.domain import JobStatus, ProgressReport
from services.job_api.errors import IllegalTransition, InvalidArgument, LeaseNotHeld

NOW = datetime(2026, 1, 1, tzinfo=UTC)
LEASE = timedelta(seconds=30)


@dataclass
class FakeJob:
    job_id: uuid.UUID = field(default_factory=uuid.uuid4)
    status: str = JobStatus.PENDING
    progress: int | None = None
    current_frame: int | None = None
    total_frames: int | None = None
    attempt: int = 0
    max_attempts: int = 3
    error_message: str | None = None
    output_path: str | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    updated_at: datetime = NOW
    cancel_requested: bool = False
    version: int = 1
    lease_id: str | None = None
    lease_owner: str | None = None
    lease_expires_at: datetime | None = None


def running(lease_id: str = "lease-1", **changes: object) -> FakeJob:
    job = FakeJob()
    sm.claim(job, "worker-a", lease_id, NOW, LEASE)
    for name, value in changes.items():
        setattr(job, name, value)
    return job


def report(
    percent: int | None, frame: int | None = None, total: int | None = None
) -> ProgressReport:
    return ProgressReport(percent=percent, current_frame=frame, total_frames=total)


def test_claim_starts_an_attempt_with_null_progress_and_a_lease() -> None:
    job = FakeJob(progress=40)
    sm.claim(job, "worker-a", "lease-1", NOW, LEASE)
    assert job.status == JobStatus.RUNNING
    assert job.progress is None
    assert job.attempt == 1
    assert job.lease_id == "lease-1"
    assert job.lease_expires_at == NOW + LEASE
    assert job.version == 2


def test_claim_of_a_running_job_is_refused() -> None:
    with pytest.raises(IllegalTransition):
        sm.claim(running(), "worker-b", "lease-2", NOW, LEASE)


def test_progress_is_null_until_the_first_report_then_stored() -> None:
    job = running()
    assert running().progress is None
    assert sm.report_progress(job, "lease-1", report(0, 1, 100), NOW, LEASE)
    assert job.progress == 0
    assert job.current_frame == 1
    assert job.total_frames == 100


def test_a_lower_report_is_ignored_not_an_error() -> None:
    job = running(progress=50)
    changed = sm.report_progress(job, "lease-1", report(30), NOW, LEASE)
    assert not changed
    assert job.progress == 50


def test_progress_stays_at_most_99_while_running() -> None:
    job = running()
    sm.report_progress(job, "lease-1", report(100), NOW, LEASE)
    assert job.progress == 99


def test_completion_is_the_only_way_to_100() -> None:
    job = running(progress=95)
    sm.complete(job, "lease-1", "results/x.json", total_frames=120, now=NOW)
    assert job.status == JobStatus.COMPLETED
    assert job.progress == 100
    assert job.current_frame == job.total_frames == 120
    assert job.lease_id is None
    assert job.finished_at == NOW


@pytest.mark.parametrize("percent", [-1, 101, 1000])
def test_percent_outside_0_to_100_is_invalid(percent: int) -> None:
    with pytest.raises(InvalidArgument, match="between 0 and 100"):
        sm.report_progress(running(), "lease-1", report(percent), NOW, LEASE)


def test_negative_frames_are_invalid() -> None:
    with pytest.raises(InvalidArgument, match="current_frame"):
        sm.report_progress(running(), "lease-1", report(5, frame=-3), NOW, LEASE)


@pytest.mark.parametrize("final", [JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED])
def test_reports_for_finished_jobs_are_refused(final: JobStatus) -> None:
    job = running(status=final)
    with pytest.raises(IllegalTransition, match=str(final)):
        sm.report_progress(job, "lease-1", report(10), NOW, LEASE)


def test_only_the_lease_holder_may_report() -> None:
    with pytest.raises(LeaseNotHeld):
        sm.report_progress(running(), "someone-else", report(10), NOW, LEASE)


def test_heartbeat_renews_the_lease_without_a_visible_change() -> None:
    job = running()
    later = NOW + timedelta(seconds=20)
    assert not sm.report_progress(job, "lease-1", report(None), later, LEASE)
    assert job.lease_expires_at == later + LEASE
    assert job.progress is None
    assert job.version == 2


def test_retryable_failure_requeues_while_attempts_remain() -> None:
    job = running(progress=40)
    sm.fail(job, "lease-1", "disk hiccup", retryable=True, now=NOW)
    assert job.status == JobStatus.PENDING
    assert job.progress is None
    assert job.lease_id is None


def test_retryable_failure_on_the_last_attempt_fails_naming_the_attempts() -> None:
    job = running(attempt=3)
    sm.fail(job, "lease-1", "disk hiccup", retryable=True, now=NOW)
    assert job.status == JobStatus.FAILED
    assert job.error_message == "disk hiccup (gave up after 3 of 3 attempts)"


def test_permanent_failure_fails_at_once() -> None:
    job = running()
    sm.fail(job, "lease-1", "not a video", retryable=False, now=NOW)
    assert job.status == JobStatus.FAILED
    assert job.error_message == "not a video"


def test_cancelling_a_pending_job_is_immediate() -> None:
    job = FakeJob()
    assert sm.request_cancellation(job, NOW)
    assert job.status == JobStatus.CANCELLED
    assert job.finished_at == NOW


def test_cancelling_a_running_job_asks_the_worker_then_ack_cancels() -> None:
    job = running(progress=30)
    assert sm.request_cancellation(job, NOW)
    assert job.status == JobStatus.RUNNING
    assert job.cancel_requested
    assert not sm.request_cancellation(job, NOW)  # asking twice changes nothing
    sm.acknowledge_cancellation(job, "lease-1", NOW)
    assert job.status == JobStatus.CANCELLED
    with pytest.raises(IllegalTransition):
        sm.report_progress(job, "lease-1", report(40), NOW, LEASE)


def test_acknowledging_an_unrequested_cancellation_is_refused() -> None:
    with pytest.raises(IllegalTransition, match="not requested"):
        sm.acknowledge_cancellation(running(), "lease-1", NOW)


@pytest.mark.parametrize("final", [JobStatus.COMPLETED, JobStatus.FAILED])
def test_finished_jobs_cannot_be_cancelled(final: JobStatus) -> None:
    with pytest.raises(IllegalTransition, match="can no longer be cancelled"):
        sm.request_cancellation(FakeJob(status=final), NOW)


def test_cancelling_a_cancelled_job_is_a_no_op() -> None:
    assert not sm.request_cancellation(FakeJob(status=JobStatus.CANCELLED), NOW)


def test_expired_lease_requeues_then_gives_up_after_max_attempts() -> None:
    job = running()
    sm.expire_lease(job, NOW)
    assert job.status == JobStatus.PENDING
    for attempt in (2, 3):
        sm.claim(job, "worker-b", f"lease-{attempt}", NOW, LEASE)
        assert job.attempt == attempt
        sm.expire_lease(job, NOW)
    assert job.status == JobStatus.FAILED
    assert job.error_message is not None
    assert "attempt 3 of 3" in job.error_message


def test_expired_lease_of_a_cancel_requested_job_cancels_it() -> None:
    job = running(cancel_requested=True)
    sm.expire_lease(job, NOW)
    assert job.status == JobStatus.CANCELLED


def test_release_does_not_count_the_attempt() -> None:
    job = running(progress=60)
    sm.release(job, "lease-1", NOW)
    assert job.status == JobStatus.PENDING
    assert job.attempt == 0
    assert job.progress is None
    sm.claim(job, "worker-b", "lease-2", NOW, LEASE)
    assert job.attempt == 1


def test_double_completion_is_refused() -> None:
    job = running()
    sm.complete(job, "lease-1", "results/x.json", None, NOW)
    with pytest.raises(IllegalTransition, match="completed"):
        sm.complete(job, "lease-1", "results/x.json", None, NOW)


@given(st.lists(st.one_of(st.none(), st.integers(0, 100)), max_size=60))
def test_progress_only_rises_and_stays_below_100_while_running(
    percents: list[int | None],
) -> None:
    job = running()
    previous: int | None = None
    for percent in percents:
        version = job.version
        changed = sm.report_progress(job, "lease-1", report(percent), NOW, LEASE)
        if previous is not None:
            assert job.progress is not None
            assert job.progress >= previous
        if job.progress is not None:
            assert job.progress <= 99
        assert job.version == version + (1 if changed else 0)
        previous = job.progress
    assert job.status == JobStatus.RUNNING
