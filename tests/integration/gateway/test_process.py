"""``forgesyte-gateway`` as a real process: start-up, settings errors, SIGTERM."""

from __future__ import annotations

import asyncio
import signal
import subprocess
from pathlib import Path

import aiohttp
import pytest

from tests.support.gateway import gateway_env
from tests.support.processes import job_api_env, read_listening_port, running_process, script


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--addr", "nowhere"], "expected HOST:PORT, got 'nowhere'"),
        (["--status-cache-jobs", "-1"], "--status-cache-jobs must be 0 or more"),
    ],
)
def test_a_bad_setting_is_one_clear_line(arguments: list[str], message: str) -> None:
    result = subprocess.run(
        [script("forgesyte-gateway"), *arguments],
        env={**gateway_env(1), "PATH": "/usr/bin:/bin"},
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


async def test_serves_and_exits_cleanly_on_sigterm(tmp_path: Path) -> None:
    with running_process([script("forgesyte-job-api")], job_api_env(tmp_path / "data")) as api:
        api_port = await asyncio.to_thread(read_listening_port, api)
        command = [script("forgesyte-gateway"), "--keepalive-seconds", "1"]
        with running_process(command, gateway_env(api_port)) as gateway:
            port = await asyncio.to_thread(read_listening_port, gateway)
            async with aiohttp.ClientSession(base_url=f"http://127.0.0.1:{port}") as http:
                for path in ("/healthz", "/readyz", "/"):
                    async with http.get(path) as response:
                        assert response.status == 200, path
            gateway.send_signal(signal.SIGTERM)
            code = await asyncio.to_thread(gateway.wait, 15)
            assert code == 0
            assert gateway.stderr is not None
            assert "Traceback" not in gateway.stderr.read()
