"""Run one command: its event loop, its connection, and the mapping of failures to exit codes.

Commands are coroutines that return an :class:`ExitCode`. Everything that
can be expected to go wrong reaches this module as a :class:`CliError` or a
gRPC error and leaves as one ``forgesyte: ...`` line on stderr plus the
matching exit code. Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import grpc
import typer

from services.cli.client import JobApiClient, api_token_from_environment, connect
from services.cli.errors import CliError, ExitCode, from_rpc_error
from services.cli.output import Output


@dataclass(frozen=True)
class GlobalOptions:
    """What ``forgesyte [--addr A] [--json] [--timeout S]`` set for every command."""

    addr: str
    json_mode: bool
    timeout: float


@dataclass
class Session:
    """What a command works with: the job API client and the output streams."""

    client: JobApiClient
    out: Output
    interrupt_hint: str | None = None
    """Said on Ctrl-C, e.g. that the submitted job keeps running and how to follow it."""


def options_of(ctx: typer.Context) -> GlobalOptions:
    options = ctx.find_root().obj
    if not isinstance(options, GlobalOptions):
        raise RuntimeError("the forgesyte callback did not run")
    return options


def run(out: Output, addr: str, work: Callable[[], Awaitable[ExitCode]]) -> None:
    """Run ``work`` in a fresh event loop and exit with its code (or the failure's)."""
    try:
        code = asyncio.run(_guarded(work, addr))
    except CliError as error:
        out.error(error.message)
        code = error.exit_code
    except KeyboardInterrupt:
        out.error("interrupted")
        code = ExitCode.INTERRUPTED
    raise typer.Exit(int(code))


def run_with_client(ctx: typer.Context, command: Callable[[Session], Awaitable[ExitCode]]) -> None:
    """Connect to the job API at ``--addr`` and run ``command`` with it."""
    options = options_of(ctx)
    out = Output(json_mode=options.json_mode)
    sessions: list[Session] = []

    async def work() -> ExitCode:
        token = api_token_from_environment()
        async with connect(options.addr, token=token, call_timeout=options.timeout) as client:
            session = Session(client, out)
            sessions.append(session)
            return await command(session)

    try:
        run(out, options.addr, work)
    except typer.Exit as leaving:
        hint = sessions[0].interrupt_hint if sessions else None
        if leaving.exit_code == ExitCode.INTERRUPTED and hint:
            out.note(hint)
        raise


async def _guarded(work: Callable[[], Awaitable[ExitCode]], addr: str) -> ExitCode:
    # asyncio.run's own Ctrl-C handler uses signal.signal, which does not wake
    # a loop idling in epoll when the kernel hands SIGINT to one of gRPC's
    # threads: `watch` on a job nobody works on could then never notice it.
    # The loop's own handler writes to its wakeup fd, so the loop always wakes.
    loop = asyncio.get_running_loop()
    main = asyncio.current_task()
    interrupted = False

    def interrupt() -> None:
        nonlocal interrupted
        interrupted = True
        if main is not None:
            main.cancel()

    loop.add_signal_handler(signal.SIGINT, interrupt)
    try:
        return await work()
    except asyncio.CancelledError:
        if interrupted:
            raise KeyboardInterrupt from None
        raise
    except grpc.aio.AioRpcError as error:
        raise from_rpc_error(error, addr) from None
    finally:
        loop.remove_signal_handler(signal.SIGINT)
