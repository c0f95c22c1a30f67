"""A page from another origin calls the gateway in real Chromium: allowed
when its origin is in FORGESYTE_CORS_ORIGINS (preflights included: the
bearer token, a multipart upload, an event stream), refused by the browser
when it is not.

The page is served by a small HTTP server on 127.0.0.1 (Chromium lets a
page call a loopback address only from a loopback origin); the same server
reached as ``localhost`` is another origin, the one not allowed.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from playwright.async_api import Browser, async_playwright

from tests.support.browser import Stack, launch_chromium

TOKEN = "cors-browser-token"
PAGE = b"<!doctype html><title>Another UI</title>"

# Runs in the page: upload a file, list the plugins and read the job's first
# event, each a cross-origin call with the bearer token.
CALLS = """
async ([gateway, token]) => {
  const auth = { Authorization: `Bearer ${token}` };
  try {
    const form = new FormData();
    form.append("file", new Blob(["not really a video"]), "clip.mp4");
    const submitted = await fetch(
      `${gateway}/v1/video/submit?plugin_id=motion&tool=detect_motion`,
      { method: "POST", headers: auth, body: form });
    const { job_id } = await submitted.json();
    const plugins = await (await fetch(`${gateway}/v1/plugins`, { headers: auth })).json();
    const events = await fetch(`${gateway}/v1/jobs/${job_id}/events`, { headers: auth });
    const reader = events.body.getReader();
    const decoder = new TextDecoder();
    let first = "";
    while (!first.includes("event: job")) {
      const { value, done } = await reader.read();
      if (done) break;
      first += decoder.decode(value, { stream: true });
    }
    await reader.cancel();
    return { submit: submitted.status, job_id, plugins: plugins.count, first };
  } catch (error) {
    return { error: `${error.name}: ${error.message}` };
  }
}
"""


class PageHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(PAGE)))
        self.end_headers()
        self.wfile.write(PAGE)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep the test output quiet


@pytest.fixture
def ui_port() -> Iterator[int]:
    """A server for the other UI's page, in a thread of this process."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), PageHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def stack_options(ui_port: int) -> dict[str, Any]:
    return {"api_token": TOKEN, "cors_origins": f"http://127.0.0.1:{ui_port}"}


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        chromium = await launch_chromium(playwright)
        try:
            yield chromium
        finally:
            await chromium.close()


async def calls_from(browser: Browser, origin: str, stack: Stack) -> Any:
    page = await browser.new_page()
    try:
        await page.goto(f"{origin}/")
        return await page.evaluate(CALLS, [stack.gateway_url, TOKEN])
    finally:
        await page.close()


async def test_a_page_from_an_allowed_origin_uploads_lists_and_streams(
    browser: Browser, stack: Stack, ui_port: int
) -> None:
    answer = await calls_from(browser, f"http://127.0.0.1:{ui_port}", stack)
    assert "error" not in answer, answer
    assert answer["submit"] == 200
    assert answer["plugins"] >= 2  # motion and the test plugins
    assert "event: job" in answer["first"]
    assert answer["job_id"] in answer["first"]


async def test_the_browser_refuses_a_page_from_another_origin(
    browser: Browser, stack: Stack, ui_port: int
) -> None:
    answer = await calls_from(browser, f"http://localhost:{ui_port}", stack)
    assert answer == {"error": "TypeError: Failed to fetch"}
    # The upload's preflight failed, so nothing was submitted.
    assert stack.get_json("/v1/jobs")["count"] == 0
