"""Where progress goes when stderr is not a terminal: plain lines, or JSON on stdout."""

from __future__ import annotations

import io
import json

from services.cli.output import Output
from services.cli.progress_display import job_progress, upload_progress
from tests.unit.cli.factories import snapshot


def streams(json_mode: bool) -> tuple[Output, io.StringIO, io.StringIO]:
    stdout, stderr = io.StringIO(), io.StringIO()
    return Output(json_mode=json_mode, stdout=stdout, stderr=stderr), stdout, stderr


def test_without_a_terminal_each_change_is_one_plain_line() -> None:
    out, stdout, stderr = streams(json_mode=False)
    assert not out.interactive
    with job_progress(out) as view:
        view.show(snapshot("pending", started=None))
        view.show(snapshot(progress=None))
        view.show(snapshot(progress=50, frame=30, total=60, started=0, updated=3))
        view.show(snapshot("completed", progress=100))
    lines = stderr.getvalue().splitlines()
    assert lines[0] == "job 7d9f3c2e: waiting for a worker"
    assert lines[1] == "job 7d9f3c2e: progress not available"
    assert lines[2].startswith("job 7d9f3c2e: 50%  frame 30/60  10.0 frames/s  ETA 0:0")
    assert len(lines) == 3, "the end is said once, by the outcome line"
    assert stdout.getvalue() == ""


def test_json_mode_prints_every_snapshot_on_stdout_and_nothing_else() -> None:
    out, stdout, stderr = streams(json_mode=True)
    with job_progress(out) as view:
        view.show(snapshot(progress=None))
        view.show(snapshot("completed", progress=100))
    lines = [json.loads(line) for line in stdout.getvalue().splitlines()]
    assert [(line["status"], line["progress"]) for line in lines] == [
        ("running", None),
        ("completed", 100),
    ]
    assert stderr.getvalue() == ""


def test_an_upload_without_a_terminal_is_reported_once_it_is_done() -> None:
    out, stdout, stderr = streams(json_mode=False)
    with upload_progress(out, "clip.mp4", 3072) as bar:
        bar.advance(1024)
        bar.advance(2048)
    assert stderr.getvalue().startswith("uploaded clip.mp4 (3.0 KiB) in ")
    assert stdout.getvalue() == ""


def test_an_upload_in_json_mode_is_silent() -> None:
    out, stdout, stderr = streams(json_mode=True)
    with upload_progress(out, "clip.mp4", 10) as bar:
        bar.advance(10)
    assert (stdout.getvalue(), stderr.getvalue()) == ("", "")


def test_errors_are_one_prefixed_line() -> None:
    out, _, stderr = streams(json_mode=True)
    out.error("job x not found")
    assert stderr.getvalue() == "forgesyte: job x not found\n"
