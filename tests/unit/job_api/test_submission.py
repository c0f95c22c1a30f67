"""Validation of a submission's header and its plugin and tool."""

from __future__ import annotations

import pytest

from services.job_api.domain import PluginManifest, ToolManifest
from services.job_api.errors import InvalidArgument
from services.job_api.submission import display_filename, validate_new_job, validate_plugin_tool

PLUGINS = [
    PluginManifest(
        id="motion",
        name="Motion",
        version="1",
        description="",
        tools=(
            ToolManifest("detect_motion", "", ("video",), ""),
            ToolManifest("describe_image", "", ("image",), ""),
        ),
    )
]


def test_job_type_defaults_to_video() -> None:
    assert validate_new_job("motion", "detect_motion", "", "a.mp4", None).job_type == "video"


@pytest.mark.parametrize(
    ("plugin_id", "tool", "job_type", "message"),
    [
        ("", "detect_motion", "", "plugin_id is required"),
        ("motion", "", "", "tool is required"),
        ("../etc", "detect_motion", "", "plugin_id '../etc' is not valid"),
        ("motion", "x" * 200, "", "tool"),
        ("motion", "detect_motion", "audio", "job_type 'audio' is not supported"),
    ],
)
def test_malformed_headers_are_rejected(
    plugin_id: str, tool: str, job_type: str, message: str
) -> None:
    with pytest.raises(InvalidArgument, match=message):
        validate_new_job(plugin_id, tool, job_type, "a.mp4", None)


def test_request_id_length_is_bounded() -> None:
    with pytest.raises(InvalidArgument, match="request_id"):
        validate_new_job("motion", "detect_motion", "", "a.mp4", "r" * 129)


@pytest.mark.parametrize(
    ("given", "shown"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\me\\clip.mp4", "clip.mp4"),
        ("..", "upload"),
        ("", "upload"),
        ("bad\x00name\n.mp4", "badname.mp4"),
    ],
)
def test_client_filenames_are_reduced_to_a_display_name(given: str, shown: str) -> None:
    assert display_filename(given) == shown


def test_unknown_plugin_names_the_available_ones() -> None:
    job = validate_new_job("people", "detect", "", "a.mp4", None)
    with pytest.raises(InvalidArgument, match="unknown plugin 'people'; available plugins: motion"):
        validate_plugin_tool(job, PLUGINS)


def test_no_plugins_at_all_says_so() -> None:
    job = validate_new_job("motion", "detect_motion", "", "a.mp4", None)
    with pytest.raises(InvalidArgument, match="no worker has advertised"):
        validate_plugin_tool(job, [])


def test_unknown_tool_names_the_available_ones() -> None:
    job = validate_new_job("motion", "track", "", "a.mp4", None)
    with pytest.raises(InvalidArgument, match="available tools: detect_motion, describe_image"):
        validate_plugin_tool(job, PLUGINS)


def test_a_tool_without_video_input_is_rejected() -> None:
    job = validate_new_job("motion", "describe_image", "", "a.mp4", None)
    with pytest.raises(InvalidArgument, match="does not accept video input"):
        validate_plugin_tool(job, PLUGINS)


def test_a_video_tool_is_accepted() -> None:
    validate_plugin_tool(validate_new_job("motion", "detect_motion", "", "a.mp4", None), PLUGINS)
