"""Stored files: complete or absent, never half-written."""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path

import pytest

from services.job_api.blobs import LocalBlobStore
from services.job_api.errors import UploadTooLarge


def key() -> str:
    return f"inputs/{uuid.uuid4()}"


def files_under(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def test_a_committed_file_reads_back_whole(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    name = key()
    writer = store.create(name, max_bytes=1000)
    writer.write(b"abc")
    writer.write(b"def")
    assert not (tmp_path / name).exists()  # invisible until committed
    writer.commit()
    assert store.size(name) == 6
    assert b"".join(store.read_chunks(name, chunk_size=4)) == b"abcdef"
    assert files_under(tmp_path / "tmp") == []


def test_going_over_the_limit_leaves_nothing(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    writer = store.create(key(), max_bytes=5)
    writer.write(b"12345")
    with pytest.raises(UploadTooLarge, match="limit of 5 bytes"):
        writer.write(b"6")
    assert files_under(tmp_path) == []


def test_an_aborted_write_leaves_nothing(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    writer = store.create(key(), max_bytes=100)
    writer.write(b"partial")
    writer.abort()
    assert files_under(tmp_path) == []


@pytest.mark.parametrize(
    "bad", ["../../etc/passwd", "inputs/../../x", "inputs/not-a-uuid", "results/x.json", ""]
)
def test_keys_cannot_escape_the_store(tmp_path: Path, bad: str) -> None:
    with pytest.raises(ValueError, match="not a blob key"):
        LocalBlobStore(tmp_path).create(bad, max_bytes=10)


def test_stale_temporary_files_are_swept(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    stale = tmp_path / "tmp" / "dead-writer.part"
    fresh = tmp_path / "tmp" / "live-writer.part"
    stale.write_bytes(b"x")
    fresh.write_bytes(b"y")
    two_hours_ago = time.time() - 7200
    os.utime(stale, (two_hours_ago, two_hours_ago))
    assert store.remove_stale_temp_files() == 1
    assert not stale.exists()
    assert fresh.exists()
