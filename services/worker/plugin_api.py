"""The plugin contract: manifests, ``run_tool``, discovery and the management layer.

ForgeSyte plugins are plain Python objects with a ``manifest`` and a
``run_tool(tool_name, args)`` method. They are found through the entry-point
group ``forgesyte.plugins`` so a third party can ship one as an ordinary
package (``pip install`` it next to the worker, no change here).

The worker talks to plugins only through :class:`PluginRegistry`:

* :meth:`PluginRegistry.manifests` is what the worker advertises to the job API;
  the manifest dataclasses mirror the protobuf ``PluginManifest`` and
  ``ToolManifest`` messages field by field, so the conversion is mechanical.
* :meth:`PluginRegistry.run_plugin_tool` adds ``progress_callback`` to the tool's
  arguments only when one is given. Tools written before progress reporting
  existed never see an argument they do not expect and keep working.

Cancellation travels through the callback: the worker's ``progress_callback``
raises :class:`JobCancelled` and the tool, which must not swallow it, stops at
its next frame. This keeps plugins free of any knowledge of gRPC or leases.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from typing import Any, Protocol, runtime_checkable

import structlog

logger = structlog.get_logger(__name__)

PLUGIN_ENTRY_POINT_GROUP = "forgesyte.plugins"
"""Entry-point group under which plugin packages register their plugin class."""

VIDEO_INPUT = "video"
"""The ``input_types`` value a tool must declare to be usable for video jobs."""

ProgressCallback = Callable[[int, int], None]
"""``progress_callback(current_frame, total_frames)``: 1-based frame just done,
and the (estimated) total. It may raise :class:`JobCancelled`."""

ToolResult = dict[str, Any]
"""A tool's JSON-serialisable result:
``{"frames": [{"frame_index": i, "detections": [...]}], "summary": {...}}``."""


class JobCancelled(Exception):
    """Raised by the worker's progress callback to stop a tool at its next frame.

    Tools must let it propagate (never catch ``Exception`` around the callback
    without re-raising it), so the worker can end the job as cancelled and
    discard partial results.
    """


class PluginError(Exception):
    """Base class for problems with plugins (as opposed to problems with inputs)."""


class UnknownPlugin(PluginError, LookupError):
    """No plugin with the requested id is installed; names the ones that are."""

    def __init__(self, plugin_id: str, available: Iterable[str]) -> None:
        self.plugin_id = plugin_id
        self.available = tuple(sorted(available))
        listed = ", ".join(self.available) or "none"
        super().__init__(f"unknown plugin {plugin_id!r}; available plugins: {listed}")


class UnknownTool(PluginError, LookupError):
    """The plugin exists but offers no tool with that id; names the tools it has."""

    def __init__(self, plugin_id: str, tool_name: str, available: Iterable[str]) -> None:
        self.plugin_id = plugin_id
        self.tool_name = tool_name
        self.available = tuple(sorted(available))
        listed = ", ".join(self.available) or "none"
        super().__init__(
            f"plugin {plugin_id!r} has no tool {tool_name!r}; available tools: {listed}"
        )


class ToolArgumentError(PluginError, ValueError):
    """A tool argument is missing or has the wrong type or range."""


class PluginContractError(PluginError):
    """A plugin broke the contract (bad manifest, non-dict result, failed to load)."""


@dataclass(frozen=True)
class ToolManifest:
    """One tool of a plugin; mirrors protobuf ``forgesyte.jobs.v1.ToolManifest``."""

    id: str
    description: str
    input_types: tuple[str, ...]
    output_description: str

    def __post_init__(self) -> None:
        if not self.id:
            raise PluginContractError("a tool manifest needs a non-empty id")
        if not self.input_types:
            raise PluginContractError(f"tool {self.id!r} declares no input_types")

    def accepts(self, input_type: str) -> bool:
        """Whether the tool takes inputs of this kind (e.g. ``"video"``)."""
        return input_type in self.input_types


@dataclass(frozen=True)
class PluginManifest:
    """What a plugin is and offers; mirrors protobuf ``forgesyte.jobs.v1.PluginManifest``."""

    id: str
    name: str
    version: str
    description: str
    tools: tuple[ToolManifest, ...]

    def __post_init__(self) -> None:
        if not self.id:
            raise PluginContractError("a plugin manifest needs a non-empty id")
        if not self.tools:
            raise PluginContractError(f"plugin {self.id!r} declares no tools")
        tool_ids = [tool.id for tool in self.tools]
        duplicates = sorted({tool_id for tool_id in tool_ids if tool_ids.count(tool_id) > 1})
        if duplicates:
            raise PluginContractError(f"plugin {self.id!r} declares tools twice: {duplicates}")

    @property
    def tool_ids(self) -> tuple[str, ...]:
        """The ids of the plugin's tools, in manifest order."""
        return tuple(tool.id for tool in self.tools)

    def tool(self, tool_name: str) -> ToolManifest:
        """The manifest of one tool; :class:`UnknownTool` names the others if absent."""
        for tool in self.tools:
            if tool.id == tool_name:
                return tool
        raise UnknownTool(self.id, tool_name, self.tool_ids)


@runtime_checkable
class Plugin(Protocol):
    """What an entry point must produce: a manifest and a ``run_tool`` method.

    ``args`` holds ``video_path`` (a local file), tool options, and
    ``progress_callback`` only when the worker tracks progress.
    """

    @property
    def manifest(self) -> PluginManifest: ...

    def run_tool(self, tool_name: str, args: Mapping[str, Any]) -> ToolResult: ...


@dataclass(frozen=True)
class PluginLoadFailure:
    """An entry point that could not be turned into a usable plugin, and why."""

    entry_point: str
    reason: str


@dataclass(frozen=True)
class PluginRegistry:
    """The installed plugins, by manifest id; the worker's only way to run a tool.

    Build it with :meth:`from_entry_points` (what the worker does) or
    :meth:`from_plugins`; both check that ids are unique.
    """

    plugins: Mapping[str, Plugin]
    load_failures: tuple[PluginLoadFailure, ...] = field(default=())

    @classmethod
    def from_plugins(cls, plugins: Iterable[Plugin]) -> PluginRegistry:
        """Build a registry from plugin objects; two plugins with one id is an error."""
        by_id: dict[str, Plugin] = {}
        for plugin in plugins:
            plugin_id = plugin.manifest.id
            if plugin_id in by_id:
                raise PluginContractError(f"two plugins declare the id {plugin_id!r}")
            by_id[plugin_id] = plugin
        return cls(plugins=by_id)

    @classmethod
    def from_entry_points(cls, found: Iterable[EntryPoint] | None = None) -> PluginRegistry:
        """Load every plugin registered under :data:`PLUGIN_ENTRY_POINT_GROUP`.

        A plugin that fails to import, to construct, or to describe itself is
        skipped and recorded in ``load_failures`` (and logged) rather than
        taking the worker down: one broken third-party package must not stop
        the built-in tools from running. The entry-point name must equal the
        manifest id, because that id is what clients submit.
        """
        candidates = entry_points(group=PLUGIN_ENTRY_POINT_GROUP) if found is None else tuple(found)
        by_id: dict[str, Plugin] = {}
        failures: list[PluginLoadFailure] = []
        for entry_point in sorted(candidates, key=lambda candidate: candidate.name):
            label = f"{entry_point.name} = {entry_point.value}"
            try:
                plugin = _instantiate(entry_point)
            except Exception as error:  # a third party's bug, reported not raised
                reason = f"{type(error).__name__}: {error}"
                failures.append(PluginLoadFailure(label, reason))
                logger.warning("plugin_load_failed", entry_point=label, reason=reason)
                continue
            rejection = _rejection(entry_point.name, plugin.manifest.id, by_id)
            if rejection is not None:
                failures.append(PluginLoadFailure(label, rejection))
                logger.warning("plugin_skipped", entry_point=label, reason=rejection)
                continue
            by_id[plugin.manifest.id] = plugin
        return cls(plugins=by_id, load_failures=tuple(failures))

    @property
    def plugin_ids(self) -> tuple[str, ...]:
        """Installed plugin ids, sorted."""
        return tuple(sorted(self.plugins))

    def manifests(self) -> tuple[PluginManifest, ...]:
        """Every installed plugin's manifest, sorted by id: what the worker advertises."""
        return tuple(self.plugins[plugin_id].manifest for plugin_id in self.plugin_ids)

    def plugin(self, plugin_id: str) -> Plugin:
        """The plugin with this id; :class:`UnknownPlugin` names the installed ones."""
        try:
            return self.plugins[plugin_id]
        except KeyError:
            raise UnknownPlugin(plugin_id, self.plugins) from None

    def tool(self, plugin_id: str, tool_name: str) -> ToolManifest:
        """The manifest of one tool, raising :class:`UnknownPlugin`/:class:`UnknownTool`."""
        return self.plugin(plugin_id).manifest.tool(tool_name)

    def run_plugin_tool(
        self,
        plugin_id: str,
        tool_name: str,
        args: Mapping[str, Any],
        progress_callback: ProgressCallback | None = None,
    ) -> ToolResult:
        """Run one tool, passing ``progress_callback`` through only when given.

        Unknown plugin or tool ids fail before the plugin runs. Exceptions from
        the tool (including :class:`JobCancelled` and unreadable-input errors)
        propagate unchanged so the caller can tell them apart.
        """
        plugin = self.plugin(plugin_id)
        plugin.manifest.tool(tool_name)
        call_args = dict(args)
        if progress_callback is not None:
            call_args["progress_callback"] = progress_callback
        result = plugin.run_tool(tool_name, call_args)
        if not isinstance(result, dict):
            raise PluginContractError(
                f"plugin {plugin_id!r} tool {tool_name!r} returned "
                f"{type(result).__name__}, not a dict"
            )
        return result


def _rejection(entry_point_name: str, plugin_id: str, loaded: Mapping[str, Plugin]) -> str | None:
    """Why a loaded plugin cannot be registered, or ``None`` if it can."""
    if plugin_id != entry_point_name:
        return f"entry point name differs from manifest id {plugin_id!r}"
    if plugin_id in loaded:
        return f"another plugin already has the id {plugin_id!r}"
    return None


def _instantiate(entry_point: EntryPoint) -> Plugin:
    """Load an entry point (a zero-argument class or factory) and check the result."""
    factory = entry_point.load()
    if not callable(factory):
        raise PluginContractError("the entry point does not name a class or factory")
    plugin = factory()
    if not isinstance(plugin, Plugin) or not isinstance(plugin.manifest, PluginManifest):
        raise PluginContractError("the object has no PluginManifest manifest or no run_tool")
    return plugin
