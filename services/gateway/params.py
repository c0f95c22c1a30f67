"""Request values checked at the door, so a bad one is a clear 400 without a
round trip to the job API (and never a protobuf overflow or a 500)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Final

from forgesyte.jobs.v1 import job_pb2
from services.common.job_fields import STATUS_VALUES
from services.gateway.errors import ApiError

MAX_PAGE_SIZE: Final = 1000
MAX_PAGE_TOKEN_LENGTH: Final = 1024


def job_id(text: str) -> str:
    """A job id in canonical UUID form, as the job API accepts it."""
    try:
        parsed = uuid.UUID(text)
    except ValueError:
        parsed = None
    if parsed is None or str(parsed) != text.lower():
        raise ApiError(400, f"job_id {text[:64]!r} is not a valid UUID")
    return text.lower()


def required(query: Mapping[str, str], name: str) -> str:
    value = query.get(name, "").strip()
    if not value:
        raise ApiError(400, f"query parameter {name!r} is required")
    return value


def page_size(query: Mapping[str, str]) -> int:
    """``page_size`` (or ForgeSyte's ``limit``): 0-1000, absent means the default."""
    text = query.get("page_size") or query.get("limit") or "0"
    try:
        size = int(text)
    except ValueError:
        raise ApiError(400, f"page_size must be a whole number, got {text[:32]!r}") from None
    if size < 0:
        raise ApiError(400, f"page_size must not be negative, got {size}")
    return min(size, MAX_PAGE_SIZE)


def page_token(query: Mapping[str, str]) -> str:
    token = query.get("page_token", "")
    if len(token) > MAX_PAGE_TOKEN_LENGTH:
        raise ApiError(400, "page_token is not a token this API issued")
    return token


def status_filter(query: Mapping[str, str]) -> job_pb2.JobStatus.ValueType:
    text = query.get("status", "").strip().lower()
    if not text:
        return job_pb2.JOB_STATUS_UNSPECIFIED
    try:
        return STATUS_VALUES[text]
    except KeyError:
        allowed = ", ".join(STATUS_VALUES)
        raise ApiError(400, f"status must be one of {allowed}; got {text[:32]!r}") from None


def last_event_id(header: str | None) -> int:
    """The version a reconnecting SSE client already has; 0 when none or unreadable.

    An unreadable value is ignored rather than refused: the client then gets
    every snapshot again, which is harmless, while a refusal would leave an
    EventSource reconnecting for ever.
    """
    if not header:
        return 0
    try:
        return max(int(header.strip()), 0)
    except ValueError:
        return 0
