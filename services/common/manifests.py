"""Plugin manifests on the wire and in JSON: one conversion for everyone.

Workers send the manifests of their plugins; the job API sends what it
stored. Each side has its own manifest type (the plugin contract, the job
API's record), with the same fields, so the conversion reads them through a
protocol rather than tying the two sides to one class.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from forgesyte.jobs.v1 import job_pb2


class ToolManifestFields(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def description(self) -> str: ...
    @property
    def input_types(self) -> Sequence[str]: ...
    @property
    def output_description(self) -> str: ...


class PluginManifestFields(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def version(self) -> str: ...
    @property
    def description(self) -> str: ...
    @property
    def tools(self) -> Sequence[ToolManifestFields]: ...


def manifest_to_dict(manifest: job_pb2.PluginManifest) -> dict[str, Any]:
    """A manifest in ForgeSyte's JSON shape (tools as a list with ``input_types``)."""
    return {
        "id": manifest.id,
        "name": manifest.name or manifest.id,
        "version": manifest.version,
        "description": manifest.description,
        "tools": [
            {
                "id": tool.id,
                "description": tool.description,
                "input_types": list(tool.input_types),
                "output_description": tool.output_description,
            }
            for tool in manifest.tools
        ],
    }


def manifest_to_proto(manifest: PluginManifestFields) -> job_pb2.PluginManifest:
    return job_pb2.PluginManifest(
        id=manifest.id,
        name=manifest.name,
        version=manifest.version,
        description=manifest.description,
        tools=[
            job_pb2.ToolManifest(
                id=tool.id,
                description=tool.description,
                input_types=list(tool.input_types),
                output_description=tool.output_description,
            )
            for tool in manifest.tools
        ],
    )
