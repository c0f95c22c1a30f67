"""Steps the browser tests share: submitting through the form, reading what
the page recorded, and counting the page's requests."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from playwright.async_api import Page, Request, expect

JOB_HASH = re.compile(r"#/jobs/([0-9a-f-]{36})$")


async def open_ui(page: Page) -> None:
    await page.goto("/")
    await expect(page.locator("#submit-button")).to_be_enabled()


async def submit_video(page: Page, plugin_id: str, tool: str, video: Path) -> str:
    """Pick the plugin and tool, choose the file, upload; returns the job id."""
    await page.select_option("#plugin", plugin_id)
    await page.select_option("#tool", tool)
    await page.set_input_files("#file", str(video))
    await page.click("#submit-button")
    await expect(page).to_have_url(JOB_HASH, timeout=30_000)
    match = JOB_HASH.search(page.url)
    assert match is not None
    return match.group(1)


async def seen(page: Page) -> dict[str, list[Any]]:
    """Every value the recorder saw the bar, the status line and the upload take."""
    result: dict[str, list[Any]] = await page.evaluate("window.__seen")
    return result


class RequestLog:
    """The URLs of the page's requests, from now on."""

    def __init__(self, page: Page) -> None:
        self.urls: list[str] = []
        page.on("request", self._record)

    def _record(self, request: Request) -> None:
        self.urls.append(request.url)

    def count(self, fragment: str) -> int:
        return sum(fragment in url for url in self.urls)
