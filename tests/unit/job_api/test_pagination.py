"""Page sizes and opaque page tokens."""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime

import pytest

from services.job_api.errors import InvalidArgument
from services.job_api.pagination import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    PageCursor,
    decode_token,
    encode_token,
    page_size,
)

CURSOR = PageCursor(datetime(2026, 5, 1, 12, 0, 0, 123456, tzinfo=UTC), uuid.uuid4())


def test_page_size_defaults_clamps_and_rejects_negatives() -> None:
    assert page_size(0) == DEFAULT_PAGE_SIZE
    assert page_size(7) == 7
    assert page_size(10**9) == MAX_PAGE_SIZE
    with pytest.raises(InvalidArgument, match="negative"):
        page_size(-1)


def test_a_token_round_trips() -> None:
    assert decode_token(encode_token(CURSOR, "running"), "running") == CURSOR


def test_an_empty_token_means_the_first_page() -> None:
    assert decode_token("", "") is None


def test_a_token_only_works_with_its_own_filter() -> None:
    with pytest.raises(InvalidArgument, match="different status filter"):
        decode_token(encode_token(CURSOR, "running"), "")


@pytest.mark.parametrize(
    "garbage",
    [
        "not a token!",
        "AAAA",
        base64.urlsafe_b64encode(b'{"v": 1}').decode(),
        base64.urlsafe_b64encode(b"[1, 2]").decode(),
        base64.urlsafe_b64encode(b'{"v": 2, "c": "x", "j": "y", "f": ""}').decode(),
        base64.urlsafe_b64encode(b"\xff\xfe").decode(),
    ],
)
def test_garbled_tokens_are_invalid_arguments(garbage: str) -> None:
    with pytest.raises(InvalidArgument, match="page_token is malformed"):
        decode_token(garbage, "")
