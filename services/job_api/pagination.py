"""Opaque page tokens and page sizes for ListJobs (AIP-158 style).

A token is the position of the last job returned (created_at, job_id), plus
the filter it was issued for, base64url-encoded. Clients treat it as opaque;
the server rejects a token that is garbled or used with another filter.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from dataclasses import dataclass
from datetime import datetime

from services.job_api.errors import InvalidArgument

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000
_TOKEN_VERSION = 1


@dataclass(frozen=True)
class PageCursor:
    """Where the previous page stopped."""

    created_at: datetime
    job_id: uuid.UUID


def page_size(requested: int) -> int:
    """0 means the default; above the maximum is clamped; negative is an error."""
    if requested < 0:
        raise InvalidArgument(f"page_size must not be negative, got {requested}")
    if requested == 0:
        return DEFAULT_PAGE_SIZE
    return min(requested, MAX_PAGE_SIZE)


def encode_token(cursor: PageCursor, status_filter: str) -> str:
    payload = {
        "v": _TOKEN_VERSION,
        "c": cursor.created_at.isoformat(),
        "j": str(cursor.job_id),
        "f": status_filter,
    }
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(token: str, status_filter: str) -> PageCursor | None:
    """The cursor in ``token``; None for an empty token (the first page)."""
    if not token:
        return None
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        payload = json.loads(raw)
        if payload["v"] != _TOKEN_VERSION:
            raise ValueError("unknown token version")
        cursor = PageCursor(
            created_at=datetime.fromisoformat(payload["c"]), job_id=uuid.UUID(payload["j"])
        )
        issued_for = payload["f"]
    except (binascii.Error, ValueError, TypeError, KeyError, UnicodeDecodeError):
        raise InvalidArgument("page_token is malformed; pass a next_page_token unchanged") from None
    if cursor.created_at.tzinfo is None:
        raise InvalidArgument("page_token is malformed; pass a next_page_token unchanged")
    if issued_for != status_filter:
        raise InvalidArgument("page_token was issued for a different status filter")
    return cursor
