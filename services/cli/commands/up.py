"""``forgesyte up``: the whole local system in one command (see ``services.cli.stack``)."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path
from typing import Annotated

import typer

from services.cli.errors import CliError, ExitCode
from services.cli.output import Output
from services.cli.runner import options_of, run
from services.cli.stack.local_stack import StackConfig, components, stack_config
from services.cli.stack.restart_policy import RestartPolicy
from services.cli.stack.supervisor import Supervisor
from services.common.config import DEFAULT_GATEWAY_ADDR

DEFAULT_DATA_DIR = Path("./var")
POLICY = RestartPolicy()


def up(
    ctx: typer.Context,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Worker processes to run.")] = 1,
    concurrency: Annotated[
        int, typer.Option(min=1, max=64, help="Jobs each worker runs at once.")
    ] = 1,
    data_dir: Annotated[
        Path,
        typer.Option(
            envvar="FORGESYTE_DATA_DIR",
            help="SQLite database, stored videos and results, and the services' logs.",
            file_okay=False,
        ),
    ] = DEFAULT_DATA_DIR,
    web_addr: Annotated[
        str,
        typer.Option(envvar="FORGESYTE_GATEWAY_ADDR", help="Where the web UI and REST API listen."),
    ] = DEFAULT_GATEWAY_ADDR,
) -> None:
    """Start the job API, the workers and the gateway; stop them all on Ctrl-C.

    Runs on the embedded default: SQLite and files under --data-dir, each
    service's log in DATA_DIR/logs/. The job API listens on --addr (gRPC),
    the gateway on --web-addr (port 0 picks a free port). FORGESYTE_WORKER_TOKEN
    is generated when unset and passed to the services in their environment.

    Waits until each service is healthy (gRPC health for the job API, plugins
    advertised for the workers, /healthz and /readyz for the gateway), then
    prints the web and gRPC addresses. A service that fails while starting
    stops everything. A service that dies later is reported and restarted
    with backoff (0.5 s doubling to 10 s); one that dies 5 times within 60 s
    stops everything (exit 1). Ctrl-C or SIGTERM stops the gateway and the
    workers, then the job API: SIGTERM, up to 15 s grace, then SIGKILL; a
    second Ctrl-C skips the grace.
    """
    options = options_of(ctx)
    out = Output(json_mode=options.json_mode)

    async def work() -> ExitCode:
        config = stack_config(
            os.environ,
            data_dir=data_dir,
            job_api_addr=options.addr,
            gateway_addr=web_addr,
            workers=workers,
            worker_concurrency=concurrency,
        )
        return await _run_stack(config, out)

    run(out, options.addr, work)


async def _run_stack(config: StackConfig, out: Output) -> ExitCode:
    def say(text: str) -> None:
        out.note(f"forgesyte up: {text}")

    supervisor = Supervisor(components(config), say=say, policy=POLICY)
    stop, hurry = asyncio.Event(), asyncio.Event()

    def on_signal(received: signal.Signals) -> None:
        if stop.is_set():
            hurry.set()
            say("stopping now, without waiting")
        else:
            stop.set()
            say(f"{received.name}: stopping (press Ctrl-C again to skip the grace period)")

    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, on_signal, sig)
    try:
        say(
            f"starting the job API, {config.workers} worker(s) and the gateway "
            f"(logs in {config.logs_dir})"
        )
        failure = await supervisor.run(stop, hurry, lambda: _announce(config, supervisor, out))
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
    if failure is not None:
        raise CliError(f"up: {failure}", ExitCode.NOT_COMPLETED)
    say("stopped")
    return ExitCode.OK


def _announce(config: StackConfig, supervisor: Supervisor, out: Output) -> None:
    """The addresses a person (or a test) needs, once everything is healthy."""
    pids = {name: child.pid for name, child in supervisor.children.items()}
    database = (
        "FORGESYTE_DATABASE_URL"
        if config.environ.get("FORGESYTE_DATABASE_URL", "").strip()
        else f"SQLite at {config.data_dir / 'forgesyte.db'}"
    )
    out.answer(
        {
            "web_url": config.web_url,
            "grpc_addr": config.grpc_target,
            "data_dir": str(config.data_dir),
            "logs_dir": str(config.logs_dir),
            "pids": pids,
        },
        lambda console: console.print(
            "ForgeSyte is running.\n"
            f"  web UI:    {config.web_url}\n"
            f"  gRPC API:  {config.grpc_target}\n"
            f"  database:  {database}\n"
            f"  logs:      {config.logs_dir}\n"
            f"Try: forgesyte --addr {config.grpc_target} smoke    Stop: Ctrl-C",
            markup=False,
        ),
    )
