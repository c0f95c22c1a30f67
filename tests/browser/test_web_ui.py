"""The web UI in real Chromium, against real job API, gateway and worker processes.

Jobs that must last long enough to watch run on the worker's ``paced`` test
plugin: it decodes the generated video for real, at a set pace (25 frames/s
here). The built-in tools finish a test-sized video in a fraction of a
second, before a page could show anything but the end; one test runs the
built-in ``motion`` tool end to end for its results.
"""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

import pytest
from playwright.async_api import Page, Route, expect

from tests.browser.ui import RequestLog, open_ui, seen, submit_video
from tests.support.browser import Stack
from tests.videos import MovingBoxVideo

JOB_TIMEOUT_MS = 30_000
TOKEN = "browser-test-token"


async def expect_finished(page: Page, status: str) -> None:
    """The job view shows the end state: no bar, no cancel, live updates stopped."""
    await expect(page.locator("#job-status")).to_have_text(
        f"Status: {status}", timeout=JOB_TIMEOUT_MS
    )
    await expect(page.get_by_role("progressbar", name="Job progress")).to_be_hidden()
    await expect(page.locator("#job-indeterminate")).to_be_hidden()
    await expect(page.locator("#cancel")).to_be_hidden()
    await expect(page.locator("#job")).to_have_attribute("data-live", "done")


async def expect_badge(page: Page, job_id: str, status: str) -> None:
    badge = page.locator(f'#jobs-table tr[data-job-id="{job_id}"] .badge')
    await expect(badge).to_have_text(status)
    await expect(badge).to_have_class(f"badge badge-{status}")


async def test_upload_then_watch_the_bar_advance_to_completion(
    page: Page, stack: Stack, short_video: MovingBoxVideo
) -> None:
    await open_ui(page)
    job_id = await submit_video(page, "paced", "slow_frames", short_video.path)

    await expect(page.locator("#job-status")).to_have_text("Status: running")
    bar = page.get_by_role("progressbar", name="Job progress")
    await expect(bar).to_be_visible()
    await expect(bar).to_have_attribute("aria-valuenow", re.compile(r"^\d+$"))
    await expect(bar.locator(".bar-text")).to_have_text(re.compile(r"^\d+%$"))
    await expect(page.locator("#job")).to_have_attribute("data-live", "stream")

    await expect_finished(page, "completed")
    record = await seen(page)
    values = [step["value"] for step in record["progress"]]
    assert len(set(values)) >= 3, values  # the bar moved, several times
    assert values == sorted(values), values  # and only forwards
    assert max(values) <= 99  # 100% only ever means "completed", shown as such
    assert all(step["text"] == f"{step['value']}%" for step in record["progress"])
    assert "Status: running" in record["status"]
    assert record["status"][-1] == "Status: completed"

    await expect(page.locator("#job-results")).to_be_visible()
    await expect(page.locator("#results-summary")).to_contain_text("Frames analysed60")
    await expect_badge(page, job_id, "completed")


async def test_a_large_upload_shows_its_percentage_rising(
    page: Page, stack: Stack, tmp_path: Path
) -> None:
    """96 MB, so that the browser reports the upload's progress several times
    even on loopback. The bytes are no video: the job fails, which is not
    what this test is about."""
    path = tmp_path / "large.mp4"
    with path.open("wb") as file:
        file.truncate(96 * 1024 * 1024)
    await open_ui(page)
    await submit_video(page, "paced", "explode", path)
    uploads = [int(text.rstrip("%")) for text in (await seen(page))["upload"]]
    assert len({u for u in uploads if 0 < u < 100}) >= 2, uploads
    assert uploads == sorted(uploads), uploads
    assert uploads[-1] == 100


async def test_a_job_without_progress_data_says_so_instead_of_showing_zero(
    page: Page, stack: Stack, short_video: MovingBoxVideo
) -> None:
    """The real worker running the paced plugin's ``silent`` tool, which never
    calls its progress callback: running, with null progress, until the end."""
    await open_ui(page)
    job_id = await submit_video(page, "paced", "silent", short_video.path)
    await expect(page.locator("#job-status")).to_have_text("Status: running")
    await expect(page.locator("#job-indeterminate")).to_have_text(
        "Processing... (progress not available)"
    )
    await expect(page.get_by_role("progressbar", name="Job progress")).to_be_hidden()
    assert stack.get_json(f"/v1/video/status/{job_id}")["progress"] is None

    await expect_finished(page, "completed")
    assert (await seen(page))["progress"] == []  # no bar, not even at 0%
    assert stack.get_json(f"/v1/video/status/{job_id}")["progress"] == 100


async def test_a_failed_job_shows_its_error(
    page: Page, stack: Stack, short_video: MovingBoxVideo
) -> None:
    """The real worker runs the paced plugin's ``explode`` tool, which raises at frame 3."""
    await open_ui(page)
    job_id = await submit_video(page, "paced", "explode", short_video.path)
    await expect_finished(page, "failed")
    error = page.locator("#job-error")
    await expect(error).to_be_visible()
    await expect(error).to_contain_text("Failed:")
    await expect(error).to_contain_text("ran out of memory at frame 3")
    await expect(page.locator("#job-results")).to_be_hidden()
    await expect_badge(page, job_id, "failed")


async def test_cancel_a_running_job(page: Page, stack: Stack, long_video: MovingBoxVideo) -> None:
    await open_ui(page)
    job_id = await submit_video(page, "paced", "slow_frames", long_video.path)
    bar = page.get_by_role("progressbar", name="Job progress")
    await expect(bar).to_be_visible()
    cancel = page.get_by_role("button", name="Cancel job")
    await expect(cancel).to_be_enabled()
    await cancel.click()
    await expect_finished(page, "cancelled")
    assert stack.get_json(f"/v1/jobs/{job_id}")["status"] == "cancelled"
    values = [step["value"] for step in (await seen(page))["progress"]]
    assert max(values) < 99  # stopped part-way
    await expect_badge(page, job_id, "cancelled")


async def test_without_the_event_stream_it_polls_every_2_s_and_stops_at_the_end(
    page: Page, stack: Stack, short_video: MovingBoxVideo
) -> None:
    """The browser refuses to open the event stream (as a proxy that blocks
    streaming would): the view must fall back to polling."""

    async def refuse(route: Route) -> None:
        await route.abort("connectionrefused")

    await page.route(re.compile(r"/v1/jobs/[0-9a-f-]+/events$"), refuse)
    requests = RequestLog(page)
    await open_ui(page)
    job_id = await submit_video(page, "paced", "slow_frames", short_video.path)
    await expect(page.locator("#job")).to_have_attribute("data-live", "polling")
    await expect_finished(page, "completed")
    await expect(page.locator("#results-summary")).to_contain_text("Frames analysed60")

    polls = requests.count(f"/v1/jobs/{job_id}")
    assert requests.count(f"/v1/jobs/{job_id}/events") == 1
    assert polls >= 3  # the first view, at least one poll, and the final state
    await asyncio.sleep(2.5)  # longer than one polling interval
    assert requests.count(f"/v1/jobs/{job_id}") == polls  # polling stopped


@pytest.mark.parametrize("stack_options", [{"api_token": TOKEN}])
async def test_with_an_api_token_the_ui_asks_for_it_then_runs_a_builtin_motion_job(
    page: Page, stack: Stack, short_video: MovingBoxVideo, tmp_path: Path
) -> None:
    await page.goto("/")
    await expect(page.locator("#token-needed")).to_be_visible()
    await expect(page.locator("#submit-button")).to_be_disabled()
    await page.fill("#token", TOKEN)
    await page.get_by_role("button", name="Save").click()
    await expect(page.locator("#submit-button")).to_be_enabled()

    job_id = await submit_video(page, "motion", "detect_motion", short_video.path)
    await expect_finished(page, "completed")
    await expect(page.locator("#results-summary")).to_contain_text("Frames analysed60")

    async with page.expect_download() as downloading:
        await page.get_by_role("button", name="Download JSON").click()
    download = await downloading.value
    assert download.suggested_filename == f"forgesyte-results-{job_id}.json"
    saved = tmp_path / "results.json"
    await download.save_as(saved)
    document = json.loads(saved.read_text())
    assert document["job_id"] == job_id
    assert document["results"]["summary"]["total_frames"] == 60
    assert any(frame["detections"] for frame in document["results"]["frames"])
