"""``forgesyte plugins``: what the running workers can do."""

from __future__ import annotations

import typer
from rich.console import Console

from forgesyte.jobs.v1 import job_pb2
from services.cli.errors import ExitCode
from services.cli.runner import Session, run_with_client
from services.common.manifests import manifest_to_dict


def plugins(ctx: typer.Context) -> None:
    """List the plugins and tools workers have advertised (what --plugin/--tool accept)."""

    async def command(session: Session) -> ExitCode:
        found = await session.client.plugins()
        session.out.answer(
            {"plugins": [manifest_to_dict(plugin) for plugin in found]},
            lambda console: _print_plugins(console, found),
        )
        return ExitCode.OK

    run_with_client(ctx, command)


def _print_plugins(console: Console, found: list[job_pb2.PluginManifest]) -> None:
    if not found:
        console.print("no plugins yet: start a worker (`forgesyte up` starts one)")
        return
    for plugin in found:
        console.print(f"{plugin.id}  {plugin.name} {plugin.version}", markup=False)
        for tool in plugin.tools:
            inputs = ",".join(tool.input_types)
            console.print(f"  {tool.id:<20} [{inputs}]  {tool.description}", markup=False)
