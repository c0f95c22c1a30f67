"""Run the real ``forgesyte`` console script as a process, from async tests.

The CLI runs as its own process (not in the test's interpreter) so the tests
see exactly what a person or a script sees: the exit code, stdout, stderr,
and no traceback. It runs under asyncio so an in-process job API on the
test's event loop keeps serving it meanwhile. Every process is killed by
its PID if the test ends first.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import socket
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from tests.support.processes import script

# The CLI must not pick up a token or an address from the machine running the tests.
CLEAN_ENV = {"FORGESYTE_API_TOKEN": "", "FORGESYTE_JOB_API_ADDR": "", "NO_COLOR": "1"}


@dataclass(frozen=True)
class CliResult:
    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)

    def json_lines(self) -> list[Any]:
        return [json.loads(line) for line in self.stdout.splitlines() if line.strip()]

    def one_error_line(self) -> str:
        """The single ``forgesyte: ...`` line an expected failure prints."""
        lines = self.stderr.splitlines()
        assert "Traceback" not in self.stderr, self.stderr
        assert len(lines) == 1, self.stderr
        assert lines[0].startswith("forgesyte: "), lines[0]
        return lines[0].removeprefix("forgesyte: ")


def cli_command(port: int | None, args: tuple[str, ...]) -> list[str]:
    addr = ["--addr", f"127.0.0.1:{port}"] if port is not None else []
    return [script("forgesyte"), *addr, *args]


def cli_env(env: Mapping[str, str] | None) -> dict[str, str]:
    return {**os.environ, **CLEAN_ENV, **(env or {})}


async def forgesyte(
    *args: str,
    port: int | None,
    env: Mapping[str, str] | None = None,
    within: float = 60.0,
) -> CliResult:
    """Run ``forgesyte [--addr 127.0.0.1:PORT] ARGS`` to the end."""
    process = await asyncio.create_subprocess_exec(
        *cli_command(port, args),
        env=cli_env(env),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), within)
    finally:
        await _ensure_stopped(process)
    assert process.returncode is not None
    return CliResult(process.returncode, out.decode(), err.decode())


class RunningCli:
    """A ``forgesyte`` process a test talks to while it runs."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.stderr_lines: list[str] = []
        self.stdout_lines: list[str] = []

    async def stderr_line(self, pattern: str, within: float = 15.0) -> re.Match[str]:
        """Read stderr until a line matches ``pattern``."""
        return await self._read_until(self.process.stderr, self.stderr_lines, pattern, within)

    async def stdout_line(self, pattern: str, within: float = 15.0) -> re.Match[str]:
        return await self._read_until(self.process.stdout, self.stdout_lines, pattern, within)

    async def finish(self, within: float = 30.0) -> CliResult:
        out, err = await asyncio.wait_for(self.process.communicate(), within)
        assert self.process.returncode is not None
        return CliResult(
            self.process.returncode,
            "".join(line + "\n" for line in self.stdout_lines) + out.decode(),
            "".join(line + "\n" for line in self.stderr_lines) + err.decode(),
        )

    @staticmethod
    async def _read_until(
        stream: asyncio.StreamReader | None, seen: list[str], pattern: str, within: float
    ) -> re.Match[str]:
        assert stream is not None
        async with asyncio.timeout(within):
            while True:
                raw = await stream.readline()
                if not raw:
                    raise AssertionError(f"no line matched {pattern!r}; saw {seen}")
                line = raw.decode().rstrip("\n")
                seen.append(line)
                match = re.search(pattern, line)
                if match:
                    return match


@asynccontextmanager
async def running_forgesyte(
    *args: str, port: int | None, env: Mapping[str, str] | None = None
) -> AsyncIterator[RunningCli]:
    """Start ``forgesyte ... ARGS`` and stop it by its PID when the block ends."""
    process = await asyncio.create_subprocess_exec(
        *cli_command(port, args),
        env=cli_env(env),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        yield RunningCli(process)
    finally:
        await _ensure_stopped(process)


async def _ensure_stopped(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.kill()
        await process.wait()


def free_port() -> int:
    """A port nothing listens on (bound and released at once)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port
