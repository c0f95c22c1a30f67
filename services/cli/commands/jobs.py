"""Commands about existing jobs: ``status``, ``watch``, ``list``, ``cancel``, ``results``."""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path
from typing import Annotated, BinaryIO

import typer
from rich.console import Console
from rich.table import Table

from services.cli.errors import CliError, ExitCode
from services.cli.formatting import format_bytes, format_percent, format_time, job_summary_lines
from services.cli.runner import Session, run_with_client
from services.cli.views import JobStatusName, JobView
from services.cli.watching import watch_to_end

JobIdArgument = Annotated[str, typer.Argument(help="The job's UUID.", show_default=False)]
DEFAULT_LIST_LIMIT = 20


def status(ctx: typer.Context, job_id: JobIdArgument) -> None:
    """Show one job: status, progress, plugin, times, error."""

    async def command(session: Session) -> ExitCode:
        job = JobView.from_proto(await session.client.status(job_id))
        session.out.answer(job.to_json(), lambda console: _print_lines(console, job))
        return ExitCode.OK

    run_with_client(ctx, command)


def watch(ctx: typer.Context, job_id: JobIdArgument) -> None:
    """Follow a job with a live progress bar until it ends.

    Exits 0 only when the job completed. With --json, prints each snapshot
    as one JSON line.
    """

    async def command(session: Session) -> ExitCode:
        return await watch_to_end(session, job_id)

    run_with_client(ctx, command)


def list_jobs(
    ctx: typer.Context,
    status: Annotated[
        JobStatusName | None, typer.Option(help="Only jobs in this status.", show_default=False)
    ] = None,
    limit: Annotated[
        int, typer.Option(min=1, max=100_000, help="At most this many jobs, newest first.")
    ] = DEFAULT_LIST_LIMIT,
) -> None:
    """List jobs, newest first."""

    async def command(session: Session) -> ExitCode:
        found = await session.client.list_jobs(limit, status.value if status else None)
        jobs = [JobView.from_proto(job) for job in found]
        session.out.answer(
            {"jobs": [job.to_json() for job in jobs]}, lambda console: _print_table(console, jobs)
        )
        return ExitCode.OK

    run_with_client(ctx, command)


def cancel(ctx: typer.Context, job_id: JobIdArgument) -> None:
    """Cancel a job: a pending one at once, a running one when its worker stops."""

    async def command(session: Session) -> ExitCode:
        job = JobView.from_proto(await session.client.cancel(job_id))
        if job.status == "cancelled":
            text = f"job {job.job_id} cancelled"
        else:
            text = f"job {job.job_id}: cancellation requested; it stops at its worker's next frame"
        session.out.answer(job.to_json(), lambda console: console.print(text, markup=False))
        return ExitCode.OK

    run_with_client(ctx, command)


def results(
    ctx: typer.Context,
    job_id: JobIdArgument,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="Write the results to this file instead of stdout.",
            show_default=False,
            dir_okay=False,
        ),
    ] = None,
) -> None:
    """Fetch a completed job's results (a JSON document), streamed to stdout or to -o FILE."""

    async def command(session: Session) -> ExitCode:
        if output is None:
            async for chunk in session.client.results(job_id):
                sys.stdout.buffer.write(chunk)
            sys.stdout.buffer.flush()
            return ExitCode.OK
        size = await _download(session, job_id, output)
        session.out.answer(
            {"job_id": job_id, "path": str(output), "size_bytes": size},
            lambda console: console.print(
                f"wrote {format_bytes(size)} of results to {output}", markup=False
            ),
        )
        return ExitCode.OK

    run_with_client(ctx, command)


async def _download(session: Session, job_id: str, target: Path) -> int:
    """Stream into a temporary file beside ``target`` and rename it into place.

    A failed or interrupted download then never leaves a truncated file under
    the name a script will read.
    """
    partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
    try:
        file: BinaryIO = partial.open("wb")
    except OSError as error:
        raise CliError(f"cannot write {target}: {error.strerror}", ExitCode.USAGE) from None
    size = 0
    try:
        with file:
            async for chunk in session.client.results(job_id):
                file.write(chunk)
                size += len(chunk)
        partial.replace(target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()
    return size


def _print_lines(console: Console, job: JobView) -> None:
    for line in job_summary_lines(job):
        console.print(line, markup=False)


def _print_table(console: Console, jobs: list[JobView]) -> None:
    if not jobs:
        console.print("no jobs")
        return
    table = Table(box=None, pad_edge=False, header_style="bold")
    for heading in ("JOB ID", "STATUS", "PROGRESS", "PLUGIN/TOOL", "FILE", "CREATED"):
        table.add_column(heading, no_wrap=heading in {"JOB ID", "STATUS", "CREATED"})
    for job in jobs:
        table.add_row(
            job.job_id,
            job.status,
            format_percent(job.progress),
            f"{job.plugin_id}/{job.tool}",
            job.original_filename,
            format_time(job.created_at),
        )
    console.print(table)
