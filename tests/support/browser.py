"""Real Chromium for the browser tests, and the whole stack as real processes.

Debian's ``chromium`` package is driven by Playwright for Python; browsers
are never downloaded (``./dev`` installs the package on a fresh machine).
The stack is the job API, the gateway and a worker, each the installed
console script on an ephemeral port of 127.0.0.1, each stopped by its PID.
The worker also has the ``paced`` test plugin (real decoding at a chosen
pace, a tool that never reports progress, one that fails), installed through
a real entry point as a third-party plugin would be.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playwright.async_api import Browser, Playwright

from tests.support.api import WORKER_TOKEN
from tests.support.gateway import gateway_env
from tests.support.processes import job_api_env, read_listening_port, running_process, script
from tests.support.test_plugins import FRAME_SECONDS_VARIABLE, install_test_plugins

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)


async def launch_chromium(playwright: Playwright) -> Browser:
    return await playwright.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=list(CHROMIUM_ARGS)
    )


@dataclass(frozen=True)
class Stack:
    """Where the running processes are."""

    job_api_port: int
    gateway_url: str
    api_token: str | None

    def get_json(self, path: str) -> Any:
        request = urllib.request.Request(self.gateway_url + path)
        if self.api_token:
            request.add_header("Authorization", f"Bearer {self.api_token}")
        with urllib.request.urlopen(request, timeout=5) as response:
            return json.load(response)


@contextmanager
def running_stack(
    directory: Path,
    *,
    frame_seconds: float = 0.04,
    api_token: str | None = None,
    cors_origins: str | None = None,
) -> Iterator[Stack]:
    """Job API, gateway and worker processes, ready once the worker's plugins
    are listed by the gateway."""
    token_env = {"FORGESYTE_API_TOKEN": api_token} if api_token else {}
    cors_env = {"FORGESYTE_CORS_ORIGINS": cors_origins} if cors_origins else {}
    with ExitStack() as processes:
        api = processes.enter_context(
            running_process(
                [script("forgesyte-job-api")], job_api_env(directory / "data", **token_env)
            )
        )
        api_port = read_listening_port(api)
        worker_env = {
            "FORGESYTE_JOB_API_ADDR": f"127.0.0.1:{api_port}",
            "FORGESYTE_WORKER_TOKEN": WORKER_TOKEN,
            "FORGESYTE_LOG_LEVEL": "WARNING",
            FRAME_SECONDS_VARIABLE: str(frame_seconds),
            **install_test_plugins(directory / "plugins"),
        }
        processes.enter_context(
            running_process([script("forgesyte-worker"), "--drain-seconds", "0"], worker_env)
        )
        gateway = processes.enter_context(
            running_process(
                [script("forgesyte-gateway")], gateway_env(api_port, **token_env, **cors_env)
            )
        )
        stack = Stack(api_port, f"http://127.0.0.1:{read_listening_port(gateway)}", api_token)
        _wait_for_plugins(stack, {"motion", "paced"})
        yield stack


def _wait_for_plugins(stack: Stack, wanted: set[str], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    listed: set[str] = set()
    while time.monotonic() < deadline:
        try:
            listed = {plugin["id"] for plugin in stack.get_json("/v1/plugins")["plugins"]}
        except (urllib.error.URLError, ConnectionError):
            listed = set()
        if wanted <= listed:
            return
        time.sleep(0.1)
    raise AssertionError(f"the worker did not advertise {sorted(wanted)} (listed: {listed})")
