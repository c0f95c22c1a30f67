"""Protobuf snapshots as the CLI shows them and as --json emits them."""

from __future__ import annotations

import json

from forgesyte.jobs.v1 import job_pb2
from services.cli.views import STATUSES, JobView, status_value
from services.common.job_fields import status_name
from services.common.manifests import manifest_to_dict
from tests.support.api import TEST_PLUGIN
from tests.unit.cli.factories import JOB_ID, proto_job


def test_absent_optional_fields_become_null_never_zero() -> None:
    view = JobView.from_proto(proto_job())
    assert view.progress is None
    assert view.current_frame is None
    assert view.total_frames is None
    assert view.error_message is None
    assert view.started_at is None
    assert view.finished_at is None


def test_present_zero_progress_stays_zero() -> None:
    view = JobView.from_proto(proto_job(progress=0, current_frame=0, total_frames=90))
    assert (view.progress, view.current_frame, view.total_frames) == (0, 0, 90)


def test_json_shape_uses_rest_names_status_strings_and_iso_times() -> None:
    data = JobView.from_proto(proto_job(progress=35, current_frame=7, total_frames=20)).to_json()
    assert json.loads(json.dumps(data)) == data
    assert data["job_id"] == JOB_ID
    assert data["status"] == "running"
    assert data["progress"] == 35
    assert data["created_at"] == "2026-01-02T03:04:05+00:00"
    assert data["started_at"] is None
    assert set(data) >= {
        "plugin_id",
        "tool",
        "current_frame",
        "total_frames",
        "attempt",
        "max_attempts",
        "cancel_requested",
        "error_message",
        "updated_at",
        "finished_at",
        "original_filename",
        "input_size_bytes",
    }


def test_every_status_round_trips_between_names_and_enum_values() -> None:
    assert STATUSES == ("pending", "running", "completed", "failed", "cancelled")
    for name in STATUSES:
        assert status_name(status_value(name)) == name
    assert status_name(job_pb2.JOB_STATUS_UNSPECIFIED) == "unspecified"
    assert status_name(99) == "unknown(99)"  # type: ignore[arg-type]


def test_terminal_means_completed_failed_or_cancelled() -> None:
    terminal = {
        name
        for name in STATUSES
        if JobView.from_proto(proto_job(status=status_value(name))).terminal
    }
    assert terminal == {"completed", "failed", "cancelled"}


def test_plugins_are_listed_with_their_tools_and_input_types() -> None:
    data = manifest_to_dict(TEST_PLUGIN)
    assert data["id"] == "motion"
    assert [tool["id"] for tool in data["tools"]] == ["detect_motion", "describe_image"]
    assert data["tools"][0]["input_types"] == ["video"]
