"""Choosing or checking a plugin tool against the advertised manifests."""

from __future__ import annotations

import pytest

from forgesyte.jobs.v1 import job_pb2
from services.cli.tools import ToolNotFound, find_video_tool
from tests.support.api import TEST_PLUGIN

SCENES = job_pb2.PluginManifest(
    id="scene_cuts",
    tools=[job_pb2.ToolManifest(id="detect_scene_cuts", input_types=["video"])],
)
IMAGES_ONLY = job_pb2.PluginManifest(
    id="captions", tools=[job_pb2.ToolManifest(id="caption", input_types=["image"])]
)
PLUGINS = [IMAGES_ONLY, TEST_PLUGIN, SCENES]


def test_nothing_asked_picks_the_first_tool_that_takes_video() -> None:
    assert find_video_tool(PLUGINS, None, None) == ("motion", "detect_motion")


def test_a_plugin_alone_picks_its_first_video_tool() -> None:
    assert find_video_tool(PLUGINS, "scene_cuts", None) == ("scene_cuts", "detect_scene_cuts")


def test_a_tool_alone_finds_its_plugin() -> None:
    assert find_video_tool(PLUGINS, None, "detect_scene_cuts") == (
        "scene_cuts",
        "detect_scene_cuts",
    )


def test_an_existing_video_tool_is_accepted_as_asked() -> None:
    assert find_video_tool(PLUGINS, "motion", "detect_motion") == ("motion", "detect_motion")


@pytest.mark.parametrize(
    ("plugin", "tool", "message"),
    [
        ("nope", "x", "unknown plugin 'nope'; available plugins: captions, motion, scene_cuts"),
        ("motion", "x", "plugin 'motion' has no tool 'x'; available tools: detect_motion, "),
        ("motion", "describe_image", "tool motion/describe_image does not accept video input"),
        ("captions", None, "no video tool found for plugin 'captions'"),
        (None, "caption", "no video tool found for tool 'caption'"),
    ],
)
def test_what_cannot_run_says_what_is_available(
    plugin: str | None, tool: str | None, message: str
) -> None:
    with pytest.raises(ToolNotFound) as raised:
        find_video_tool(PLUGINS, plugin, tool)
    assert message in str(raised.value)


def test_no_plugins_at_all_says_no_worker_has_advertised() -> None:
    with pytest.raises(ToolNotFound, match="no worker has advertised any yet"):
        find_video_tool([], "motion", "detect_motion")
    with pytest.raises(ToolNotFound, match=r"advertised: none"):
        find_video_tool([], None, None)
