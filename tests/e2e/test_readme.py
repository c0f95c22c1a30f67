"""Every command in README.md works, so the README cannot rot.

The CLI, grpcurl and curl examples run, in order, in one bash session
against a real ``forgesyte up`` stack (with the README's default addresses
replaced by the stack's ports). The set-up commands (``./dev up`` and
``./dev check``) cannot run inside the test suite they start, so the test
checks what they run instead; the plugin example is checked against the
entry-point group the worker loads.
"""

from __future__ import annotations

import asyncio
import os
import re
import sys
import tomllib
from pathlib import Path

from services.worker.plugin_api import PLUGIN_ENTRY_POINT_GROUP
from tests.support.stack import running_stack
from tests.videos import make_moving_box_video

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
BLOCK = re.compile(r"^```(\w+)\n(.*?)^```", re.MULTILINE | re.DOTALL)


def blocks(language: str) -> list[str]:
    return [body for lang, body in BLOCK.findall(README.read_text()) if lang == language]


def runnable_blocks() -> list[str]:
    return [body for body in blocks("sh") if "./dev " not in body]


def test_the_two_set_up_commands_are_what_dev_and_ci_run() -> None:
    (set_up,) = [body for body in blocks("sh") if "./dev " in body]
    commands = [line.split("#")[0].split() for line in set_up.splitlines() if line.strip()]
    assert commands == [["./dev", "up"], ["./dev", "check"]]
    dev = (ROOT / "dev").read_text()
    assert 'exec "$VENV/bin/forgesyte" up' in dev
    assert "run_checks" in dev
    for check in ("ruff format --check", "ruff check", "gen_protos.py --check", "mypy", "pytest"):
        assert check.split()[0] in dev
    assert "exec ./dev check" in (ROOT / ".ci" / "run").read_text()
    assert os.access(ROOT / "dev", os.X_OK)


def test_the_plugin_example_uses_the_entry_point_group_workers_load() -> None:
    (example,) = blocks("toml")
    entry_points = tomllib.loads(example)["project"]["entry-points"]
    assert list(entry_points) == [PLUGIN_ENTRY_POINT_GROUP]


def test_every_configuration_variable_in_the_table_is_read() -> None:
    from services.common.config import ENVIRONMENT_VARIABLES

    documented = set(re.findall(r"`(FORGESYTE_[A-Z_]+)`", README.read_text()))
    assert documented == set(ENVIRONMENT_VARIABLES)


async def test_every_example_command_runs_against_a_live_stack(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    # Long enough (a few seconds of analysis) that the README's cancel example,
    # which cancels right after submitting, always finds the job unfinished.
    make_moving_box_video(work / "clip.mp4", frame_count=6000)
    async with running_stack(tmp_path / "data") as stack:
        web = stack.web_url.rstrip("/")
        script = "\n".join(runnable_blocks())
        script = script.replace("http://127.0.0.1:8080", web)
        script = script.replace("127.0.0.1:50051", stack.grpc_addr)
        bin_dir = str(Path(sys.executable).parent)
        process = await asyncio.create_subprocess_exec(
            "bash",
            "-euo",
            "pipefail",
            "-c",
            script,
            cwd=work,
            env={
                **os.environ,
                "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
                "FORGESYTE_JOB_API_ADDR": stack.grpc_addr,
                "FORGESYTE_API_TOKEN": "",
            },
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(process.communicate(), timeout=300)
    stdout, stderr = out.decode(), err.decode()
    assert process.returncode == 0, f"{stderr}\n{stdout}"
    assert (work / "results.json").stat().st_size > 0
    assert "forgesyte.jobs.v1.JobService" in stdout  # grpcurl list
    assert '"progress": 100' in stdout  # GetJobStatus of the completed job
    assert "event:" in stdout or "data:" in stdout  # the SSE stream
    assert '"status": "completed"' in stdout or '"status":"completed"' in stdout
