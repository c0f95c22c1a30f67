"""The JSON shapes: ForgeSyte's status body, and progress that is null when unknown."""

from __future__ import annotations

from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp

from forgesyte.jobs.v1 import job_pb2
from services.common.manifests import manifest_to_dict
from services.gateway.views import (
    is_terminal,
    job_view,
    status_name,
    status_view,
)
from tests.support.api import TEST_PLUGIN

CREATED = Timestamp(seconds=1_700_000_000, nanos=500_000_000)


def job(**fields: Any) -> job_pb2.Job:
    values: dict[str, Any] = {
        "job_id": "3f2504e0-4f89-41d3-9a0c-0305e82c3301",
        "status": job_pb2.JOB_STATUS_RUNNING,
        "created_at": CREATED,
        "updated_at": CREATED,
        **fields,
    }
    return job_pb2.Job(**values)


def test_status_view_is_forgesyte_shaped() -> None:
    assert status_view(job(progress=75)) == {
        "job_id": "3f2504e0-4f89-41d3-9a0c-0305e82c3301",
        "status": "running",
        "progress": 75,
        "created_at": "2023-11-14T22:13:20.500Z",
        "updated_at": "2023-11-14T22:13:20.500Z",
    }


def test_absent_progress_is_null_and_a_reported_zero_is_zero() -> None:
    assert status_view(job())["progress"] is None
    assert status_view(job(progress=0))["progress"] == 0


def test_completed_is_100() -> None:
    view = status_view(job(status=job_pb2.JOB_STATUS_COMPLETED, progress=100))
    assert (view["status"], view["progress"]) == ("completed", 100)


def test_status_names_are_lower_case() -> None:
    names = [
        status_name(job(status=value))
        for value in (
            job_pb2.JOB_STATUS_PENDING,
            job_pb2.JOB_STATUS_RUNNING,
            job_pb2.JOB_STATUS_COMPLETED,
            job_pb2.JOB_STATUS_FAILED,
            job_pb2.JOB_STATUS_CANCELLED,
        )
    ]
    assert names == ["pending", "running", "completed", "failed", "cancelled"]
    assert [is_terminal(job(status=v)) for v in (1, 2, 3, 4, 5)] == [
        False,
        False,
        True,
        True,
        True,
    ]


def test_job_view_fills_unknowns_with_null() -> None:
    view = job_view(job(status=job_pb2.JOB_STATUS_PENDING, plugin_id="motion", tool="t"))
    for field in (
        "progress",
        "current_frame",
        "total_frames",
        "error_message",
        "started_at",
        "finished_at",
        "eta_seconds",
    ):
        assert view[field] is None, field
    assert (view["plugin_id"], view["tool"], view["cancel_requested"]) == ("motion", "t", False)


def test_job_view_estimates_time_left_while_running() -> None:
    started = Timestamp(seconds=1_700_000_000)
    running = job(started_at=started, progress=20, current_frame=50, total_frames=200)
    # A quarter of the frames in 10 s: 30 s left.
    assert job_view(running, now=1_700_000_010)["eta_seconds"] == 30.0
    finished = job(status=job_pb2.JOB_STATUS_COMPLETED, started_at=started, progress=100)
    assert job_view(finished, now=1_700_000_010)["eta_seconds"] is None


def test_plugin_view_lists_tools_with_input_types() -> None:
    view = manifest_to_dict(TEST_PLUGIN)
    assert (view["id"], view["name"], view["version"]) == ("motion", "Motion", "1.0")
    assert [(t["id"], t["input_types"]) for t in view["tools"]] == [
        ("detect_motion", ["video"]),
        ("describe_image", ["image"]),
    ]
    assert manifest_to_dict(job_pb2.PluginManifest(id="bare"))["name"] == "bare"
