"""``forgesyte``: the command line for people and scripts.

Global options go before the command: ``forgesyte --json --addr HOST:PORT status ID``.
Each command lives in ``services.cli.commands``; this module only wires them
into one typer application. Tracebacks are not shown for expected failures
(those become one line, see ``services.cli.errors``), and typer's "pretty"
exception display is off so a real bug prints a plain Python traceback.
"""

from __future__ import annotations

from typing import Annotated

import typer

from services.cli.client import DEFAULT_TIMEOUT_SECONDS
from services.cli.commands import jobs, plugins, smoke, submit, up
from services.cli.errors import EXIT_CODES_HELP
from services.cli.runner import GlobalOptions
from services.common.config import DEFAULT_JOB_API_ADDR

app = typer.Typer(
    name="forgesyte",
    help="Analyse videos with ForgeSyte plugins and follow their progress live.",
    epilog=EXIT_CODES_HELP,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@app.callback()
def configure(
    ctx: typer.Context,
    addr: Annotated[
        str,
        typer.Option(
            envvar="FORGESYTE_JOB_API_ADDR",
            help="The job API's gRPC address (for `up`: where it listens).",
        ),
    ] = DEFAULT_JOB_API_ADDR,
    json_output: Annotated[
        bool,
        typer.Option("--json", help="Print JSON for scripts (streams: one object per line)."),
    ] = False,
    timeout: Annotated[
        float, typer.Option(min=0.1, help="Seconds to wait for each request's answer.")
    ] = DEFAULT_TIMEOUT_SECONDS,
) -> None:
    """Analyse videos with ForgeSyte plugins and follow their progress live.

    FORGESYTE_API_TOKEN, when set, is sent as the bearer token.
    """
    ctx.obj = GlobalOptions(addr=addr, json_mode=json_output, timeout=timeout)


app.command()(submit.submit)
app.command()(jobs.status)
app.command()(jobs.watch)
app.command("list")(jobs.list_jobs)
app.command()(jobs.cancel)
app.command()(jobs.results)
app.command()(plugins.plugins)
app.command()(smoke.smoke)
app.command()(up.up)


def main() -> None:
    """The ``forgesyte`` console script."""
    app(prog_name="forgesyte")


if __name__ == "__main__":
    main()
