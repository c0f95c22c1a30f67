"""``forgesyte up`` end to end: real processes, real videos, the CLI and the web address.

Each test runs the whole local stack (job API, worker, gateway) as
``forgesyte up`` starts it, in a temporary data dir on free ports, and
checks it from the outside: through the CLI, over REST at the announced
web address, and by looking at the process table with psutil.
"""

from __future__ import annotations

import asyncio
import json
import signal
import socket
from pathlib import Path

import aiohttp
import psutil

from tests.support.cli import forgesyte
from tests.support.stack import alive, running_stack, script_name
from tests.videos import make_moving_box_video


async def web_page(web_url: str) -> str:
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(timeout=timeout) as http, http.get(web_url) as page:
        assert page.status == 200
        assert "text/html" in page.headers["Content-Type"]
        return await page.text()


async def test_up_serves_the_cli_and_the_web_ui_and_ctrl_c_leaves_nothing(
    tmp_path: Path,
) -> None:
    video = make_moving_box_video(tmp_path / "box.mp4").path
    async with running_stack(tmp_path / "var") as stack:
        children = stack.children()
        names = sorted(script_name(child) for child in children)
        assert names == ["forgesyte-gateway", "forgesyte-job-api", "forgesyte-worker"]
        for child in children:
            # The generated token travels in the environment, never on a command line.
            token = child.environ()["FORGESYTE_WORKER_TOKEN"]
            assert len(token) >= 32
            assert token not in " ".join(child.cmdline())

        addr = stack.grpc_addr.rsplit(":", 1)
        port = int(addr[1])
        watched = await forgesyte(
            "submit",
            str(video),
            "--plugin",
            "motion",
            "--tool",
            "detect_motion",
            "--watch",
            port=port,
        )
        assert watched.code == 0, watched.stderr
        job_id = watched.stdout.split()[1]
        assert watched.stdout.startswith(f"job {job_id} completed in ")

        target = tmp_path / "results.json"
        fetched = await forgesyte("results", job_id, "-o", str(target), port=port)
        assert fetched.code == 0, fetched.stderr
        results = json.loads(target.read_bytes())
        assert len(results["frames"]) == 60
        assert "summary" in results

        # The same through the web address: REST upload, event stream, results.
        assert "<html" in (await web_page(stack.web_url)).lower()
        through_web = await forgesyte("--json", "smoke", "--web", stack.web_url, port=None)
        assert through_web.code == 0, through_web.stdout + through_web.stderr
        report = through_web.json()
        assert report["target"] == f"gateway at {stack.web_url}"
        seen_over_grpc = await forgesyte("--json", "status", report["job_id"], port=port)
        assert (seen_over_grpc.json()["status"], seen_over_grpc.json()["progress"]) == (
            "completed",
            100,
        )

        stack.cli.process.send_signal(signal.SIGINT)
        ended = await stack.cli.finish(within=40)
        assert ended.code == 0, ended.stderr
        assert "forgesyte up: SIGINT: stopping" in ended.stderr
        assert ended.stderr.rstrip().endswith("forgesyte up: stopped")
        assert [child.pid for child in children if alive(child.pid)] == []
    assert (tmp_path / "var" / "forgesyte.db").exists()
    assert {p.name for p in (tmp_path / "var" / "logs").iterdir()} == {
        "job-api.log",
        "worker-1.log",
        "gateway.log",
    }


async def test_killed_children_are_restarted_and_the_stack_keeps_working(
    tmp_path: Path,
) -> None:
    async with running_stack(tmp_path / "var", json_mode=True) as stack:
        assert set(stack.pids) == {"job-api", "worker-1", "gateway"}
        port = int(stack.grpc_addr.rsplit(":", 1)[1])
        killed = [stack.pids["worker-1"], stack.pids["job-api"]]

        psutil.Process(stack.pids["worker-1"]).kill()
        await stack.cli.stderr_line(
            rf"worker-1 \(pid {killed[0]}\) was killed by SIGKILL; restarting it in 0.5 s"
        )
        await stack.cli.stderr_line(r"worker-1 is healthy again \(pid \d+\)", within=30)

        psutil.Process(stack.pids["job-api"]).kill()
        await stack.cli.stderr_line(rf"job-api \(pid {killed[1]}\) was killed by SIGKILL")
        await stack.cli.stderr_line(r"job-api is healthy again \(pid \d+\)", within=30)

        # The new job API serves the same address; the worker and the gateway reconnect.
        smoke = await forgesyte("smoke", port=port)
        assert smoke.code == 0, smoke.stdout + smoke.stderr
        assert not any(alive(pid) for pid in killed)

        current = stack.children()
        assert len(current) == 3
        stack.cli.process.send_signal(signal.SIGTERM)
        ended = await stack.cli.finish(within=40)
        assert ended.code == 0, ended.stderr
        assert [child.pid for child in current if alive(child.pid)] == []


async def test_when_up_itself_is_killed_its_children_stop_too(tmp_path: Path) -> None:
    async with running_stack(tmp_path / "var") as stack:
        children = stack.children()
        assert len(children) == 3
        stack.cli.process.kill()
        await stack.cli.process.wait()
        for _ in range(300):
            if not any(alive(child.pid) for child in children):
                break
            await asyncio.sleep(0.1)
        assert [c.pid for c in children if alive(c.pid)] == []


async def test_a_service_failing_at_start_stops_up_with_its_reason(tmp_path: Path) -> None:
    result = await forgesyte(
        "--addr",
        "127.0.0.1:0",
        "up",
        "--web-addr",
        "127.0.0.1:0",
        "--data-dir",
        str(tmp_path / "var"),
        port=None,
        env={"FORGESYTE_LEASE_SECONDS": "never", "FORGESYTE_WORKER_TOKEN": ""},
    )
    assert result.code == 1
    last = result.stderr.splitlines()[-1]
    assert last.startswith("forgesyte: up: job-api exited with code 2 while starting: ")
    assert "FORGESYTE_LEASE_SECONDS='never'" in last
    assert "Traceback" not in result.stderr


async def test_up_refuses_an_address_already_in_use(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = await forgesyte(
            "--addr",
            "127.0.0.1:0",
            "up",
            "--web-addr",
            f"127.0.0.1:{port}",
            "--data-dir",
            str(tmp_path / "var"),
            port=None,
        )
    assert result.code == 2
    assert result.one_error_line().startswith(f"127.0.0.1:{port} is already in use")
    assert not (tmp_path / "var").exists(), "nothing is started or created"
