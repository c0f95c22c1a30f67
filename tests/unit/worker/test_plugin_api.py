"""The plugin contract: manifests, discovery through entry points, run_plugin_tool."""

from __future__ import annotations

import dataclasses
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest
from google.protobuf.message import Message

from forgesyte.jobs.v1 import job_pb2
from services.worker.plugin_api import (
    PLUGIN_ENTRY_POINT_GROUP,
    VIDEO_INPUT,
    JobCancelled,
    PluginContractError,
    PluginManifest,
    PluginRegistry,
    ToolManifest,
    UnknownPlugin,
    UnknownTool,
)
from tests.unit.worker.fake_plugins import EchoPlugin, LegacyPlugin, manifest

FAKES = "tests.unit.worker.fake_plugins"


def entry_point(name: str, target: str) -> EntryPoint:
    """An entry point as a third-party package would declare it."""
    return EntryPoint(name=name, value=f"{FAKES}:{target}", group=PLUGIN_ENTRY_POINT_GROUP)


def test_builtin_plugins_are_discovered_through_installed_entry_points() -> None:
    registry = PluginRegistry.from_entry_points()

    assert {"motion", "people", "scene_cuts"} <= set(registry.plugin_ids)
    assert registry.load_failures == ()
    manifests = {item.id: item for item in registry.manifests()}
    assert manifests["motion"].tool_ids == ("detect_motion",)
    assert manifests["people"].tool_ids == ("detect_people", "detect_faces")
    assert manifests["scene_cuts"].tool_ids == ("detect_scene_cuts",)


def test_every_builtin_tool_takes_video_and_describes_itself() -> None:
    for plugin_manifest in PluginRegistry.from_entry_points().manifests():
        assert plugin_manifest.name
        assert plugin_manifest.version
        assert plugin_manifest.description
        for tool in plugin_manifest.tools:
            assert tool.accepts(VIDEO_INPUT)
            assert tool.description
            assert '"frame_index"' in tool.output_description


@pytest.mark.parametrize(
    ("dataclass_type", "message"),
    [(PluginManifest, job_pb2.PluginManifest), (ToolManifest, job_pb2.ToolManifest)],
)
def test_manifest_fields_line_up_with_the_protobuf_messages(
    dataclass_type: type, message: type[Message]
) -> None:
    fields = [field.name for field in dataclasses.fields(dataclass_type)]
    proto_fields = [field.name for field in message.DESCRIPTOR.fields]

    assert fields == proto_fields


def test_manifests_are_immutable() -> None:
    plugin_manifest = manifest("echo", "echo")

    with pytest.raises(dataclasses.FrozenInstanceError):
        plugin_manifest.id = "other"  # type: ignore[misc]


def test_third_party_plugins_load_from_their_entry_points() -> None:
    registry = PluginRegistry.from_entry_points(
        [entry_point("echo", "EchoPlugin"), entry_point("legacy", "LegacyPlugin")]
    )

    assert registry.plugin_ids == ("echo", "legacy")
    assert [item.id for item in registry.manifests()] == ["echo", "legacy"]


@pytest.mark.parametrize(
    ("name", "target", "reason"),
    [
        ("missing", "DoesNotExist", "AttributeError"),
        ("exploding", "ExplodingPlugin", "not installed"),
        ("not_a_plugin", "NotAPlugin", "no PluginManifest"),
        ("not_callable", "NOT_CALLABLE", "class or factory"),
        ("renamed", "EchoPlugin", "differs from manifest id 'echo'"),
    ],
)
def test_a_broken_plugin_is_skipped_and_reported_without_stopping_the_others(
    name: str, target: str, reason: str
) -> None:
    registry = PluginRegistry.from_entry_points(
        [entry_point(name, target), entry_point("legacy", "LegacyPlugin")]
    )

    assert registry.plugin_ids == ("legacy",)
    [failure] = registry.load_failures
    assert failure.entry_point == f"{name} = {FAKES}:{target}"
    assert reason in failure.reason


def test_two_entry_points_for_one_id_keep_the_first_and_report_the_second() -> None:
    registry = PluginRegistry.from_entry_points(
        [entry_point("echo", "EchoPlugin"), entry_point("echo", "EchoPlugin")]
    )

    assert registry.plugin_ids == ("echo",)
    [failure] = registry.load_failures
    assert "already has the id 'echo'" in failure.reason


def test_registry_from_objects_rejects_duplicate_ids() -> None:
    with pytest.raises(PluginContractError, match="'echo'"):
        PluginRegistry.from_plugins([EchoPlugin(), EchoPlugin()])


def test_unknown_plugin_error_names_the_available_plugins() -> None:
    registry = PluginRegistry.from_plugins([EchoPlugin(), LegacyPlugin()])

    with pytest.raises(UnknownPlugin) as caught:
        registry.run_plugin_tool("yolo", "detect", {"video_path": "x.mp4"})

    assert str(caught.value) == "unknown plugin 'yolo'; available plugins: echo, legacy"
    assert caught.value.available == ("echo", "legacy")


def test_unknown_tool_is_rejected_before_the_plugin_runs() -> None:
    echo = EchoPlugin()
    registry = PluginRegistry.from_plugins([echo])

    with pytest.raises(UnknownTool) as caught:
        registry.run_plugin_tool("echo", "shout", {"video_path": "x.mp4"})

    assert str(caught.value) == (
        "plugin 'echo' has no tool 'shout'; available tools: count_to, echo"
    )
    assert echo.calls == []


def test_tool_lookup_gives_the_tool_manifest() -> None:
    registry = PluginRegistry.from_plugins([EchoPlugin()])

    assert registry.tool("echo", "count_to").id == "count_to"
    with pytest.raises(UnknownTool):
        registry.tool("echo", "nope")


def test_progress_callback_is_passed_only_when_given() -> None:
    echo = EchoPlugin()
    registry = PluginRegistry.from_plugins([echo])
    args = {"video_path": "x.mp4"}

    without = registry.run_plugin_tool("echo", "echo", args)
    calls: list[tuple[int, int]] = []
    with_callback = registry.run_plugin_tool(
        "echo", "count_to", {"frames": 3}, progress_callback=lambda c, t: calls.append((c, t))
    )

    assert without["summary"]["args"] == ["video_path"]
    assert "progress_callback" not in echo.calls[0][1]
    assert with_callback["summary"]["total_frames"] == 3
    assert calls == [(1, 3), (2, 3), (3, 3)]
    assert args == {"video_path": "x.mp4"}, "the caller's arguments must not be modified"


def test_a_tool_that_knows_nothing_of_progress_keeps_working_without_a_callback(
    tmp_path: Path,
) -> None:
    registry = PluginRegistry.from_plugins([LegacyPlugin()])
    video = str(tmp_path / "clip.mp4")

    result = registry.run_plugin_tool("legacy", "inspect", {"video_path": video})

    assert result["summary"]["inspected"] == video


def test_cancellation_raised_by_the_callback_reaches_the_caller() -> None:
    registry = PluginRegistry.from_plugins([EchoPlugin()])
    seen: list[int] = []

    def cancel_at_second_frame(current: int, total: int) -> None:
        seen.append(current)
        if current == 2:
            raise JobCancelled

    with pytest.raises(JobCancelled):
        registry.run_plugin_tool("echo", "count_to", {"frames": 10}, cancel_at_second_frame)

    assert seen == [1, 2]


def test_a_result_that_is_not_a_dict_breaks_the_contract() -> None:
    registry = PluginRegistry.from_entry_points(
        [entry_point("list_returning", "ListReturningPlugin")]
    )

    with pytest.raises(PluginContractError, match="returned list, not a dict"):
        registry.run_plugin_tool("list_returning", "run", {})


def test_manifest_needs_tools_with_unique_ids_and_input_types() -> None:
    tool = ToolManifest(id="t", description="", input_types=(VIDEO_INPUT,), output_description="")

    with pytest.raises(PluginContractError, match="declares no tools"):
        PluginManifest(id="p", name="P", version="1", description="", tools=())
    with pytest.raises(PluginContractError, match="declares tools twice"):
        PluginManifest(id="p", name="P", version="1", description="", tools=(tool, tool))
    with pytest.raises(PluginContractError, match="no input_types"):
        ToolManifest(id="t", description="", input_types=(), output_description="")
    with pytest.raises(PluginContractError, match="non-empty id"):
        PluginManifest(id="", name="P", version="1", description="", tools=(tool,))


def test_builtin_plugin_rejects_an_unknown_tool_itself() -> None:
    motion = PluginRegistry.from_entry_points().plugin("motion")

    with pytest.raises(UnknownTool, match="available tools: detect_motion"):
        motion.run_tool("detect_cats", {"video_path": "x.mp4"})
