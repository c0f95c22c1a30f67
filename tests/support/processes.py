"""Start the project's console scripts as real processes, and always stop them."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from tests.support.api import WORKER_TOKEN


def script(name: str) -> str:
    """A console script installed next to the running interpreter."""
    path = Path(sys.executable).parent / name
    assert path.exists(), f"{name} is not installed; run: pip install -e '.[dev]'"
    return str(path)


def stop(process: subprocess.Popen[str], timeout: float = 10.0) -> int:
    """SIGTERM, then SIGKILL if it lingers; returns the exit code."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return process.returncode


@contextmanager
def running_process(
    command: list[str], env: Mapping[str, str], cwd: Path | None = None
) -> Iterator[subprocess.Popen[str]]:
    process = subprocess.Popen(
        command,
        env={**os.environ, **env},
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        yield process
    finally:
        stop(process)
        for pipe in (process.stdout, process.stderr):
            if pipe is not None:
                pipe.close()


def job_api_env(data_dir: Path, **extra: str) -> dict[str, str]:
    return {
        "FORGESYTE_DATA_DIR": str(data_dir),
        "FORGESYTE_JOB_API_ADDR": "127.0.0.1:0",
        "FORGESYTE_WORKER_TOKEN": WORKER_TOKEN,
        "FORGESYTE_LOG_LEVEL": "WARNING",
        **extra,
    }


def read_listening_port(process: subprocess.Popen[str], timeout: float = 30.0) -> int:
    """The port from the job API's 'listening on HOST:PORT' line."""
    assert process.stdout is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            if process.poll() is not None:
                stderr = process.stderr.read() if process.stderr else ""
                raise AssertionError(f"exited with {process.returncode}: {stderr}")
            continue
        match = re.search(r"listening on [\d.]+:(\d+)", line)
        if match:
            return int(match.group(1))
    raise AssertionError("the job API did not report its port in time")
