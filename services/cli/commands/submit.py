"""``forgesyte submit VIDEO --plugin P --tool T [--watch]``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from services.cli.errors import CliError, ExitCode
from services.cli.formatting import format_bytes
from services.cli.progress_display import upload_progress
from services.cli.runner import Session, run_with_client
from services.cli.tools import ToolNotFound, find_video_tool
from services.cli.views import JobView
from services.cli.watching import watch_to_end


def submit(
    ctx: typer.Context,
    *,
    video: Annotated[Path, typer.Argument(help="The video file to analyse.", show_default=False)],
    plugin: Annotated[
        str, typer.Option(help="Plugin to run (see `forgesyte plugins`).", show_default=False)
    ],
    tool: Annotated[str, typer.Option(help="Tool of that plugin to run.", show_default=False)],
    watch: Annotated[
        bool, typer.Option("--watch", "-w", help="Follow the job until it ends.")
    ] = False,
    request_id: Annotated[
        str | None,
        typer.Option(
            help="Idempotency key: submitting again with the same key returns the same job "
            "instead of creating another, so a script can retry safely.",
            show_default=False,
        ),
    ] = None,
    quiet: Annotated[
        bool,
        typer.Option(
            "--quiet",
            "-q",
            help="Print only the new job's id, for scripts: JOB_ID=$(forgesyte submit ... -q).",
        ),
    ] = False,
) -> None:
    """Upload a video and create a job; with --watch, follow it with a live progress bar.

    Without --watch, exits 0 once the job is stored. With --watch, exits 0
    only when the job completed (1 if it failed or was cancelled).
    """

    async def command(session: Session) -> ExitCode:
        if quiet and watch:
            raise CliError(
                "--quiet prints only the job id; it cannot go with --watch", ExitCode.USAGE
            )
        size = _readable_size(video)
        try:
            find_video_tool(await session.client.plugins(), plugin, tool)
        except ToolNotFound as error:
            raise CliError(str(error), ExitCode.REJECTED) from None
        with upload_progress(session.out, video.name, size) as bar:
            submitted = await session.client.submit(
                video, plugin_id=plugin, tool=tool, request_id=request_id, on_sent=bar.advance
            )
        job = JobView.from_proto(submitted)
        if not watch:
            summary = (
                job.job_id
                if quiet
                else f"submitted job {job.job_id} ({job.plugin_id}/{job.tool}, "
                f"{job.original_filename}, {format_bytes(job.input_size_bytes)})"
            )
            session.out.answer(job.to_json(), lambda console: console.print(summary, markup=False))
            return ExitCode.OK
        if not session.out.json_mode:
            session.out.note(f"submitted job {job.job_id}")
        return await watch_to_end(session, job.job_id)

    run_with_client(ctx, command)


def _readable_size(video: Path) -> int:
    """The file's size, or the one-line reason it cannot be uploaded.

    Checked before the first call, so a typo in the path is reported as such
    whether or not the job API is up.
    """
    try:
        if not video.is_file():
            reason = "is a directory" if video.is_dir() else "no such file"
            raise CliError(f"cannot read {video}: {reason}", ExitCode.USAGE)
        with video.open("rb"):
            return video.stat().st_size
    except OSError as error:
        raise CliError(f"cannot read {video}: {error.strerror}", ExitCode.USAGE) from None
