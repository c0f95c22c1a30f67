"""``forgesyte smoke``: check a running deployment end to end (see ``services.cli.smoke``)."""

from __future__ import annotations

from typing import Annotated

import typer

from services.cli.client import api_token_from_environment
from services.cli.errors import ExitCode
from services.cli.output import Output
from services.cli.runner import Session, options_of, run, run_with_client
from services.cli.smoke import DEFAULT_WAIT_SECONDS, SmokeTest
from services.cli.smoke_targets import GrpcTarget, SmokeTarget


def smoke(
    ctx: typer.Context,
    plugin: Annotated[
        str | None,
        typer.Option(
            help="Plugin to use (default: the first with a video tool).", show_default=False
        ),
    ] = None,
    tool: Annotated[
        str | None,
        typer.Option(
            help="Tool to use (default: the plugin's first video tool).", show_default=False
        ),
    ] = None,
    web: Annotated[
        str | None,
        typer.Option(
            help="Go through the gateway at this URL (REST and events) instead of gRPC.",
            show_default=False,
            metavar="URL",
        ),
    ] = None,
    wait: Annotated[
        float, typer.Option(min=1, help="Seconds the job may take to complete.")
    ] = DEFAULT_WAIT_SECONDS,
) -> None:
    """Submit a small generated video to a running deployment and check every step.

    Talks to the job API at --addr over gRPC, or with --web URL to the
    gateway. Checks the status shape (status one of the five strings,
    progress an integer 0-100 or null, never going back), that the job
    completes, and that its results are a JSON object with "frames" and
    "summary". Exits 0 when all pass, 1 at the first deviation (with one line
    saying which), 3 when the deployment cannot be reached.
    """
    options = options_of(ctx)

    def test_for(target: SmokeTarget, out: Output) -> SmokeTest:
        return SmokeTest(
            target, out, plugin=plugin, tool=tool, wait_seconds=wait, addr=options.addr
        )

    if web is None:

        async def over_grpc(session: Session) -> ExitCode:
            target = GrpcTarget(session.client, session.out.note)
            return await test_for(target, session.out).execute()

        run_with_client(ctx, over_grpc)
        return

    # Imported here: aiohttp is only needed for this path.
    from services.cli.smoke_rest import RestTarget, rest_session

    out = Output(json_mode=options.json_mode)

    async def over_rest() -> ExitCode:
        async with rest_session() as http:
            target = RestTarget(http, web, api_token_from_environment())
            return await test_for(target, out).execute()

    run(out, web, over_rest)
