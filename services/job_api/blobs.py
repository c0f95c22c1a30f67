"""Stored files (uploaded inputs and results) behind one small interface.

Keys are chosen by the job API from server-made ids (``inputs/<job>``,
``results/<job>.<lease>.json``); a client's file name never becomes a path. A file
is written under a temporary name and renamed into place only when it is
complete, so a reader never sees half a file, and an aborted write leaves
nothing behind. ``LocalBlobStore`` keeps files under the data dir, which
several replicas may share (a shared volume); an object store can implement
the same ``BlobStore`` protocol later.
"""

from __future__ import annotations

import os
import re
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import BinaryIO, Protocol

from services.job_api.errors import StorageUnavailable, UploadTooLarge

_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
_KEY_PATTERN = re.compile(rf"^(inputs/{_UUID}|results/{_UUID}\.{_UUID}\.json)$")
_TEMP_SUFFIX = ".part"
# Temporary files older than this belong to a writer that died.
STALE_TEMP_SECONDS = 3600.0
READ_CHUNK_BYTES = 256 * 1024


class BlobWriter(Protocol):
    """Receives a file piece by piece; ``commit`` makes it visible."""

    @property
    def size(self) -> int: ...

    def write(self, chunk: bytes) -> None: ...

    def commit(self) -> None: ...

    def abort(self) -> None: ...


class BlobStore(Protocol):
    """Where inputs and results live."""

    def create(self, key: str, max_bytes: int) -> BlobWriter: ...

    def read_chunks(self, key: str, chunk_size: int = READ_CHUNK_BYTES) -> Iterator[bytes]: ...

    def size(self, key: str) -> int: ...

    def delete(self, key: str) -> None: ...


def _checked(key: str) -> str:
    if not _KEY_PATTERN.match(key):
        raise ValueError(f"not a blob key: {key!r}")
    return key


class LocalBlobWriter:
    """Writes to ``<root>/tmp/<random>.part`` and renames into place on commit."""

    def __init__(self, final_path: Path, temp_dir: Path, max_bytes: int) -> None:
        self._final_path = final_path
        self._temp_path = temp_dir / f"{uuid.uuid4()}{_TEMP_SUFFIX}"
        self._max_bytes = max_bytes
        self._size = 0
        try:
            self._file: BinaryIO | None = open(self._temp_path, "xb")  # noqa: SIM115
        except OSError as error:
            raise StorageUnavailable(f"cannot store the file: {error.strerror}") from error

    @property
    def size(self) -> int:
        return self._size

    def write(self, chunk: bytes) -> None:
        assert self._file is not None, "write after commit or abort"
        if self._size + len(chunk) > self._max_bytes:
            self.abort()
            raise UploadTooLarge(f"the file is larger than the limit of {self._max_bytes} bytes")
        try:
            self._file.write(chunk)
        except OSError as error:
            self.abort()
            raise StorageUnavailable(f"cannot store the file: {error.strerror}") from error
        self._size += len(chunk)

    def commit(self) -> None:
        assert self._file is not None, "commit after commit or abort"
        try:
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()
            self._file = None
            os.replace(self._temp_path, self._final_path)
        except OSError as error:
            self.abort()
            raise StorageUnavailable(f"cannot store the file: {error.strerror}") from error

    def abort(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        self._temp_path.unlink(missing_ok=True)

    def __enter__(self) -> LocalBlobWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._file is not None:
            self.abort()


class LocalBlobStore:
    """Files under one directory, shared by every replica that mounts it."""

    def __init__(self, root: Path) -> None:
        self._root = root
        self._temp_dir = root / "tmp"
        for directory in (root / "inputs", root / "results", self._temp_dir):
            directory.mkdir(parents=True, exist_ok=True)

    def create(self, key: str, max_bytes: int) -> LocalBlobWriter:
        return LocalBlobWriter(self._root / _checked(key), self._temp_dir, max_bytes)

    def read_chunks(self, key: str, chunk_size: int = READ_CHUNK_BYTES) -> Iterator[bytes]:
        with open(self._root / _checked(key), "rb") as file:
            while chunk := file.read(chunk_size):
                yield chunk

    def size(self, key: str) -> int:
        return (self._root / _checked(key)).stat().st_size

    def delete(self, key: str) -> None:
        (self._root / _checked(key)).unlink(missing_ok=True)

    def remove_stale_temp_files(self, older_than: float = STALE_TEMP_SECONDS) -> int:
        """Delete temporary files left by writers that died; returns how many."""
        cutoff = time.time() - older_than
        removed = 0
        for path in self._temp_dir.glob(f"*{_TEMP_SUFFIX}"):
            try:
                if path.stat().st_mtime < cutoff:
                    path.unlink()
                    removed += 1
            except FileNotFoundError:
                continue
        return removed
