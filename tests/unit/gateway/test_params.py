"""Request values checked at the door: clear 400s, never a 500 or an overflow."""

from __future__ import annotations

import pytest

from forgesyte.jobs.v1 import job_pb2
from services.gateway import params
from services.gateway.errors import ApiError


def test_canonical_job_ids_pass_and_are_lower_cased() -> None:
    text = "3F2504E0-4F89-41D3-9A0C-0305E82C3301"
    assert params.job_id(text) == text.lower()


@pytest.mark.parametrize(
    "text",
    [
        "nope",
        "",
        "3f2504e04f8941d39a0c0305e82c3301",  # no hyphens
        "{3f2504e0-4f89-41d3-9a0c-0305e82c3301}",
        "urn:uuid:3f2504e0-4f89-41d3-9a0c-0305e82c3301",
        "x" * 10_000,
    ],
)
def test_other_spellings_are_400(text: str) -> None:
    with pytest.raises(ApiError) as raised:
        params.job_id(text)
    assert raised.value.status == 400
    assert len(raised.value.detail) < 120  # the id is cut short in the message


@pytest.mark.parametrize(
    ("query", "size"),
    [({}, 0), ({"page_size": "20"}, 20), ({"limit": "7"}, 7), ({"page_size": "99999999999"}, 1000)],
)
def test_page_sizes(query: dict[str, str], size: int) -> None:
    assert params.page_size(query) == size


@pytest.mark.parametrize("text", ["-1", "1.5", "many", "0x10"])
def test_bad_page_sizes_are_400(text: str) -> None:
    with pytest.raises(ApiError) as raised:
        params.page_size({"page_size": text})
    assert raised.value.status == 400


def test_status_filter() -> None:
    assert params.status_filter({}) == job_pb2.JOB_STATUS_UNSPECIFIED
    assert params.status_filter({"status": "Running"}) == job_pb2.JOB_STATUS_RUNNING
    with pytest.raises(ApiError) as raised:
        params.status_filter({"status": "done"})
    assert "pending, running, completed, failed, cancelled" in raised.value.detail


def test_required_parameters() -> None:
    assert params.required({"tool": " detect "}, "tool") == "detect"
    with pytest.raises(ApiError) as raised:
        params.required({"tool": "  "}, "tool")
    assert raised.value.detail == "query parameter 'tool' is required"


@pytest.mark.parametrize(
    ("header", "version"), [(None, 0), ("", 0), ("12", 12), (" 7 ", 7), ("-3", 0), ("abc", 0)]
)
def test_last_event_id_is_read_leniently(header: str | None, version: int) -> None:
    assert params.last_event_id(header) == version
