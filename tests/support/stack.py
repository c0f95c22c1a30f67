"""``forgesyte up`` as a real process tree for end-to-end tests, always cleaned up.

The stack runs in a temporary data dir on free ports (port 0, resolved by
``up``). When the block ends, ``up`` gets SIGTERM and is awaited; any of its
children still alive after that (which would be a bug the test then
reports) is killed by its PID, so no test leaves processes behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from tests.support.cli import CLEAN_ENV, RunningCli
from tests.support.processes import script

STACK_ENV = {
    **CLEAN_ENV,
    "FORGESYTE_WORKER_TOKEN": "",
    "FORGESYTE_DATABASE_URL": "",
    "FORGESYTE_GATEWAY_ADDR": "",
    "FORGESYTE_DATA_DIR": "",
    "FORGESYTE_LOG_LEVEL": "WARNING",
}
READY_SECONDS = 90.0


@dataclass
class Stack:
    """A running ``forgesyte up`` and what it announced."""

    cli: RunningCli
    web_url: str
    grpc_addr: str
    pids: dict[str, int] = field(default_factory=dict)

    @property
    def pid(self) -> int:
        return self.cli.process.pid

    def children(self) -> list[psutil.Process]:
        return psutil.Process(self.pid).children(recursive=True)


def up_command(data_dir: Path, workers: int, json_mode: bool) -> list[str]:
    return [
        script("forgesyte"),
        *(["--json"] if json_mode else []),
        "--addr",
        "127.0.0.1:0",
        "up",
        "--web-addr",
        "127.0.0.1:0",
        "--data-dir",
        str(data_dir),
        "--workers",
        str(workers),
    ]


@asynccontextmanager
async def running_stack(
    data_dir: Path,
    *,
    workers: int = 1,
    json_mode: bool = False,
    env: Mapping[str, str] | None = None,
) -> AsyncIterator[Stack]:
    """Start ``forgesyte up`` and wait until it says everything is healthy."""
    process = await asyncio.create_subprocess_exec(
        *up_command(data_dir, workers, json_mode),
        env={**os.environ, **STACK_ENV, **(env or {})},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    cli = RunningCli(process)
    # psutil.Process objects, not bare PIDs: they refuse to signal a process
    # that merely reuses the PID of one of ours.
    seen: dict[int, psutil.Process] = {}
    try:
        stack = await _announced(cli, json_mode)
        seen.update((child.pid, child) for child in stack.children())
        yield stack
    finally:
        seen.update((child.pid, child) for child in _descendants(process.pid))
        await _stop(process, list(seen.values()))


async def _announced(cli: RunningCli, json_mode: bool) -> Stack:
    if json_mode:
        line = (await cli.stdout_line(r"^\{", within=READY_SECONDS)).string
        ready = json.loads(line)
        return Stack(cli, ready["web_url"], ready["grpc_addr"], ready["pids"])
    web = await cli.stdout_line(r"web UI:\s+(http://\S+)", within=READY_SECONDS)
    grpc = await cli.stdout_line(r"gRPC API:\s+(\S+)")
    return Stack(cli, web.group(1), grpc.group(1))


def _descendants(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


async def _stop(process: asyncio.subprocess.Process, children: list[psutil.Process]) -> None:
    if process.returncode is None:
        process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), 30)
        except TimeoutError:
            process.kill()
            await process.wait()
    for child in children:
        with contextlib.suppress(psutil.NoSuchProcess):
            child.kill()


def alive(pid: int) -> bool:
    """Running (a zombie has finished; it only waits for its parent to reap it)."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def script_name(process: psutil.Process) -> str:
    """``forgesyte-worker`` for a process started from that console script."""
    for part in process.cmdline():
        name = Path(part).name
        if re.fullmatch(r"forgesyte(-[a-z-]+)?", name):
            return name
    return process.name()
