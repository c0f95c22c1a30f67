"""Server-Sent Events on the wire: the id is the job version, data is one line."""

from __future__ import annotations

import json

from forgesyte.jobs.v1 import job_pb2
from services.gateway.sse import KEEPALIVE, error_event, job_event


def test_a_job_event_carries_its_version_as_id() -> None:
    message = job_pb2.Job(
        job_id="3f2504e0-4f89-41d3-9a0c-0305e82c3301",
        status=job_pb2.JOB_STATUS_RUNNING,
        progress=42,
        version=7,
        original_filename="two\nlines.mp4",
    )
    lines = job_event(message).decode().split("\n")
    assert lines[:2] == ["id: 7", "event: job"]
    assert lines[2].startswith("data: ")
    assert lines[3:] == ["", ""]  # one data line, then the blank line that ends the event
    data = json.loads(lines[2].removeprefix("data: "))
    assert (data["status"], data["progress"], data["version"]) == ("running", 42, 7)
    assert data["original_filename"] == "two\nlines.mp4"


def test_error_events_and_comments() -> None:
    assert error_event("gone") == b'event: error\ndata: {"detail": "gone"}\n\n'
    assert KEEPALIVE.startswith(b":")
    assert KEEPALIVE.endswith(b"\n\n")
