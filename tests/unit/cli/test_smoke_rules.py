"""What the smoke test counts as a deviation in snapshots and results."""

from __future__ import annotations

import json

import pytest

from services.cli.smoke_rules import Snapshot, results_problem, snapshot_problem
from tests.unit.cli.factories import JOB_ID, snapshot


def seen(status: object, progress: object = None, attempt: int | None = 1) -> Snapshot:
    return Snapshot(JOB_ID, status, progress, attempt)


@pytest.mark.parametrize(
    "job",
    [
        seen("pending"),
        seen("running"),
        seen("running", 0),
        seen("running", 99),
        seen("completed", 100),
        seen("failed", 40),
        seen("cancelled"),
    ],
)
def test_documented_shapes_pass(job: Snapshot) -> None:
    assert snapshot_problem(job) is None


@pytest.mark.parametrize(
    ("job", "expected"),
    [
        (seen("unspecified"), "status is 'unspecified', expected one of pending, running"),
        (seen(None), "status is None"),
        (seen("running", 101), "progress is 101, expected null or an integer from 0 to 100"),
        (seen("running", -1), "progress is -1"),
        (seen("running", 42.5), "progress is 42.5"),
        (seen("running", "42"), 'progress is "42"'),
        (seen("running", True), "progress is true"),
        (seen("pending", 0), "a pending job has progress 0; expected null"),
        (seen("running", 100), "a running job has progress 100"),
        (seen("completed", 95), "a completed job has progress 95; expected 100"),
        (seen("completed", None), "a completed job has progress null; expected 100"),
    ],
)
def test_deviations_are_named(job: Snapshot, expected: str) -> None:
    problem = snapshot_problem(job)
    assert problem is not None
    assert expected in problem


def test_progress_may_not_go_back_within_an_attempt() -> None:
    before = seen("running", 40)
    assert snapshot_problem(seen("running", 45), before) is None
    assert snapshot_problem(seen("running", 35), before) == (
        "progress went from 40 to 35 within attempt 1; it may only go up"
    )
    assert "to null" in (snapshot_problem(seen("running", None), before) or "")


def test_a_new_attempt_or_an_unknown_attempt_starts_progress_afresh() -> None:
    before = seen("running", 40, attempt=1)
    assert snapshot_problem(seen("running", None, attempt=2), before) is None
    assert snapshot_problem(seen("running", 5, attempt=2), before) is None
    assert snapshot_problem(seen("running", 5, attempt=None), seen("running", 40, None)) is None


def test_snapshots_come_from_grpc_views_and_rest_json_alike() -> None:
    from_view = Snapshot.from_view(snapshot("failed", progress=40, attempt=2, error="boom"))
    from_json = Snapshot.from_json(
        {
            "job_id": JOB_ID,
            "status": "failed",
            "progress": 40,
            "attempt": 2,
            "error_message": "boom",
        }
    )
    assert from_view == from_json
    assert from_view.terminal
    assert from_view.describe() == "failed, progress 40"
    status_route = Snapshot.from_json({"job_id": JOB_ID, "status": "pending", "progress": None})
    assert (status_route.attempt, status_route.error, status_route.terminal) == (None, None, False)
    assert status_route.describe() == "pending, progress null"


def test_results_must_be_a_json_object_with_frames_and_summary() -> None:
    good = json.dumps({"frames": [{"frame_index": 0, "detections": []}], "summary": {}})
    assert results_problem(good.encode()) is None
    assert "not JSON" in (results_problem(b"{frames") or "")
    assert results_problem(b"[]") == "the results are a JSON list, expected an object"
    assert results_problem(b'{"frames": []}') == "the results lack 'summary'"
    assert results_problem(b"{}") == "the results lack 'frames' and 'summary'"
    not_a_list = results_problem(b'{"frames": {}, "summary": {}}')
    assert not_a_list == "the results' 'frames' is not a list"
