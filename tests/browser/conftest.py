"""Browser tests: the web UI in real headless Chromium, against the real
job API, gateway and worker processes.

Every page gets a small recorder (injected before the UI's own script runs)
that writes down each value the progress bar, the status line and the
upload indicator take, so a test can check the whole sequence afterwards
rather than sample it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Page, async_playwright

from tests.support.browser import Stack, launch_chromium, running_stack
from tests.videos import MovingBoxVideo, make_moving_box_video

RECORDER = """
window.__seen = { progress: [], status: [], upload: [] };
document.addEventListener("DOMContentLoaded", () => {
  const bar = document.getElementById("job-bar");
  const status = document.getElementById("job-status");
  const upload = document.getElementById("upload-percent");
  new MutationObserver(() => {
    if (!bar.hidden && bar.hasAttribute("aria-valuenow")) {
      window.__seen.progress.push({
        value: Number(bar.getAttribute("aria-valuenow")),
        text: bar.querySelector(".bar-text").textContent,
      });
    }
  }).observe(bar, { attributes: true, attributeFilter: ["aria-valuenow", "hidden"] });
  new MutationObserver(() => window.__seen.status.push(status.textContent))
    .observe(status, { childList: true, characterData: true, subtree: true });
  new MutationObserver(() => window.__seen.upload.push(upload.textContent))
    .observe(upload, { childList: true, characterData: true, subtree: true });
});
"""


@pytest.fixture(scope="session")
def video_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("browser-videos")


@pytest.fixture(scope="session")
def short_video(video_dir: Path) -> MovingBoxVideo:
    """60 frames with a moving box: about 2.4 s for the paced tool."""
    return make_moving_box_video(video_dir / "box.mp4", frame_count=60)


@pytest.fixture(scope="session")
def long_video(video_dir: Path) -> MovingBoxVideo:
    """250 frames: long enough to cancel in the middle."""
    return make_moving_box_video(video_dir / "long.mp4", frame_count=250)


@pytest.fixture
def stack_options() -> dict[str, Any]:
    """Options for ``running_stack``; a test module may override them."""
    return {}


@pytest.fixture
def stack(tmp_path: Path, stack_options: dict[str, Any]) -> Iterator[Stack]:
    with running_stack(tmp_path, **stack_options) as running:
        yield running


@pytest.fixture
async def page(stack: Stack) -> AsyncIterator[Page]:
    async with async_playwright() as playwright:
        browser = await launch_chromium(playwright)
        try:
            context = await browser.new_context(base_url=stack.gateway_url, accept_downloads=True)
            await context.add_init_script(RECORDER)
            page = await context.new_page()
            yield page
            await context.close()
        finally:
            await browser.close()
