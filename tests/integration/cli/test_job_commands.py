"""Every ``forgesyte`` job command against a real job API, answers and failures.

The job API is the real one on an ephemeral port (the ``job_api``
fixture); the tests play the worker's part through the real worker RPCs
(``clients``), so they decide exactly when a job runs, reports progress,
completes or fails, and can check what the CLI shows at each step.
"""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest

from forgesyte.jobs.v1 import worker_service_pb2 as worker_pb
from services.job_api.server import RunningJobApi
from tests.support.api import Clients, lease_of, new_job_id, worker_metadata
from tests.support.cli import forgesyte, free_port, running_forgesyte

RESULTS = {"frames": [{"frame_index": 0, "detections": []}], "summary": {"frames": 1}}
JOB_ID = r"([0-9a-f-]{36})"


VIDEO = b"not decoded by the job API" * 400


@pytest.fixture
def video(tmp_path: Path) -> Path:
    path = tmp_path / "clip.mp4"
    path.write_bytes(VIDEO)
    return path


def leftovers(folder: Path, pattern: str) -> list[str]:
    return sorted(path.name for path in folder.glob(pattern))


async def completed_job(clients: Clients) -> str:
    await clients.advertise()
    job = await clients.submit(VIDEO)
    claim = await clients.claim()
    await clients.complete(lease_of(claim), json.dumps(RESULTS).encode())
    return job.job_id


# plugins


async def test_plugins_before_any_worker_says_how_to_get_one(job_api: RunningJobApi) -> None:
    result = await forgesyte("plugins", port=job_api.port)
    assert result.code == 0
    assert "no plugins yet" in result.stdout


async def test_plugins_lists_tools_and_their_inputs(
    job_api: RunningJobApi, clients: Clients
) -> None:
    await clients.advertise()
    human = await forgesyte("plugins", port=job_api.port)
    assert human.code == 0
    assert human.stdout.splitlines()[0].startswith("motion  Motion 1.0")
    assert "detect_motion" in human.stdout
    assert "[image]" in human.stdout

    scripted = await forgesyte("--json", "plugins", port=job_api.port)
    assert scripted.code == 0
    (plugin,) = scripted.json()["plugins"]
    assert plugin["id"] == "motion"
    assert plugin["tools"][0] == {
        "id": "detect_motion",
        "description": "Boxes around moving regions, per frame.",
        "input_types": ["video"],
        "output_description": "frames with detections",
    }


# submit


async def test_submit_stores_the_job_and_prints_its_id(
    job_api: RunningJobApi, clients: Clients, video: Path
) -> None:
    await clients.advertise()
    result = await forgesyte(
        "submit", str(video), "--plugin", "motion", "--tool", "detect_motion", port=job_api.port
    )
    assert result.code == 0, result.stderr
    assert result.stdout.startswith("submitted job ")
    job_id = result.stdout.split()[2]
    stored = await clients.status(job_id)
    assert stored.original_filename == "clip.mp4"
    assert stored.input_size_bytes == len(VIDEO)
    assert "uploaded clip.mp4" in result.stderr


async def test_submit_quiet_prints_only_the_job_id_for_scripts(
    job_api: RunningJobApi, clients: Clients, video: Path
) -> None:
    await clients.advertise()
    args = ("submit", str(video), "--plugin", "motion", "--tool", "detect_motion", "--quiet")
    result = await forgesyte(*args, port=job_api.port)
    assert result.code == 0, result.stderr
    job_id = result.stdout.strip()
    assert (await clients.status(job_id)).job_id == job_id
    refused = await forgesyte(*args, "--watch", port=job_api.port)
    assert refused.code == 2
    assert "cannot go with --watch" in refused.stderr


async def test_submit_json_prints_the_pending_job(
    job_api: RunningJobApi, clients: Clients, video: Path
) -> None:
    await clients.advertise()
    result = await forgesyte(
        "--json",
        "submit",
        str(video),
        "--plugin",
        "motion",
        "--tool",
        "detect_motion",
        "--request-id",
        "nightly-1",
        port=job_api.port,
    )
    assert result.code == 0, result.stderr
    job = result.json()
    assert job["status"] == "pending"
    assert job["progress"] is None
    assert (job["plugin_id"], job["tool"]) == ("motion", "detect_motion")
    assert result.stderr == ""

    again = await forgesyte(
        "--json",
        "submit",
        str(video),
        "--plugin",
        "motion",
        "--tool",
        "detect_motion",
        "--request-id",
        "nightly-1",
        port=job_api.port,
    )
    assert again.json()["job_id"] == job["job_id"], "the same request id gives the same job"


async def test_submit_watch_shows_live_progress_and_exits_0_on_completion(
    job_api: RunningJobApi, clients: Clients, video: Path
) -> None:
    await clients.advertise()
    args = ("submit", str(video), "--plugin", "motion", "--tool", "detect_motion", "--watch")
    async with running_forgesyte(*args, port=job_api.port) as cli:
        job_id = (await cli.stderr_line(f"submitted job {JOB_ID}")).group(1)
        await cli.stderr_line("waiting for a worker")
        claim = await clients.claim()
        assert claim.job.job_id == job_id
        await cli.stderr_line(r"job \w{8}: progress not available$")
        await clients.report(lease_of(claim), 50, current_frame=30, total_frames=60)
        line = await cli.stderr_line(r"job \w{8}: 50%  frame 30/60")
        assert "frames/s" in line.string
        assert "ETA" in line.string
        await clients.complete(lease_of(claim), json.dumps(RESULTS).encode())
        result = await cli.finish()
    assert result.code == 0, result.stderr
    assert f"job {job_id} completed" in result.stdout
    assert "Traceback" not in result.stderr


async def test_submit_watch_json_streams_each_snapshot(
    job_api: RunningJobApi, clients: Clients, video: Path
) -> None:
    await clients.advertise()
    args = ("--json", "submit", str(video), "--plugin", "motion", "--tool", "detect_motion", "-w")
    async with running_forgesyte(*args, port=job_api.port) as cli:
        await cli.stdout_line('"status": "pending"')
        claim = await clients.claim()
        await cli.stdout_line('"status": "running"')
        await clients.report(lease_of(claim), 40, current_frame=4, total_frames=10)
        await cli.stdout_line('"progress": 40')
        await clients.complete(lease_of(claim), json.dumps(RESULTS).encode())
        result = await cli.finish()
    assert result.code == 0
    snapshots = result.json_lines()
    assert [s["status"] for s in snapshots][-1] == "completed"
    assert snapshots[-1]["progress"] == 100
    progress = [s["progress"] for s in snapshots]
    assert progress[0] is None
    assert 40 in progress
    assert progress == sorted(progress, key=lambda p: -1 if p is None else p)


async def test_submit_watch_of_a_failing_job_exits_1_with_the_reason(
    job_api: RunningJobApi, clients: Clients, video: Path
) -> None:
    await clients.advertise()
    args = ("submit", str(video), "--plugin", "motion", "--tool", "detect_motion", "--watch")
    async with running_forgesyte(*args, port=job_api.port) as cli:
        job_id = (await cli.stderr_line(f"submitted job {JOB_ID}")).group(1)
        claim = await clients.claim()
        await clients.worker.FailJob(
            worker_pb.FailJobRequest(
                lease=lease_of(claim), error_message="cannot decode frame 7", retryable=False
            ),
            metadata=worker_metadata(),
        )
        result = await cli.finish()
    assert result.code == 1
    assert result.stderr.splitlines()[-1] == (
        f"forgesyte: job {job_id} failed: cannot decode frame 7"
    )


# status, list, watch, cancel, results


async def test_status_human_and_json(job_api: RunningJobApi, clients: Clients, video: Path) -> None:
    await clients.advertise()
    job = await clients.submit(VIDEO)
    claim = await clients.claim()
    await clients.report(lease_of(claim), 25, current_frame=15, total_frames=60)

    human = await forgesyte("status", job.job_id, port=job_api.port)
    assert human.code == 0
    assert f"job       {job.job_id}" in human.stdout
    assert "status    running" in human.stdout
    assert "progress  25%  frame 15/60" in human.stdout

    scripted = await forgesyte("--json", "status", job.job_id, port=job_api.port)
    data = scripted.json()
    assert (data["status"], data["progress"], data["current_frame"]) == ("running", 25, 15)
    assert data["attempt"] == 1
    assert data["started_at"] is not None


async def test_status_without_progress_data_is_null_not_zero(
    job_api: RunningJobApi, clients: Clients, video: Path
) -> None:
    await clients.advertise()
    job = await clients.submit(VIDEO)
    await clients.claim()
    scripted = await forgesyte("--json", "status", job.job_id, port=job_api.port)
    assert scripted.json()["progress"] is None
    human = await forgesyte("status", job.job_id, port=job_api.port)
    assert "progress  progress not available" in human.stdout


async def test_list_filters_by_status_and_limits(
    job_api: RunningJobApi, clients: Clients, video: Path
) -> None:
    await clients.advertise()
    jobs = [await clients.submit(VIDEO) for _ in range(3)]
    await clients.claim()  # the oldest becomes running

    everything = await forgesyte("--json", "list", port=job_api.port)
    assert [j["job_id"] for j in everything.json()["jobs"]] == [j.job_id for j in reversed(jobs)]

    pending = await forgesyte("--json", "list", "--status", "pending", port=job_api.port)
    assert {j["status"] for j in pending.json()["jobs"]} == {"pending"}
    assert len(pending.json()["jobs"]) == 2

    newest = await forgesyte("--json", "list", "--limit", "1", port=job_api.port)
    assert [j["job_id"] for j in newest.json()["jobs"]] == [jobs[-1].job_id]

    table = await forgesyte("list", "--status", "running", port=job_api.port)
    lines = table.stdout.splitlines()
    assert lines[0].split()[:3] == ["JOB", "ID", "STATUS"]
    assert lines[1].split()[:3] == [jobs[0].job_id, "running", "-"]


async def test_list_with_nothing_to_show(job_api: RunningJobApi) -> None:
    result = await forgesyte("list", port=job_api.port)
    assert result.code == 0
    assert result.stdout.strip() == "no jobs"


async def test_list_rejects_an_unknown_status_as_a_usage_error(job_api: RunningJobApi) -> None:
    result = await forgesyte("list", "--status", "finished", port=job_api.port)
    assert result.code == 2
    assert "finished" in result.stderr
    assert "Traceback" not in result.stderr


async def test_cancel_then_watch_reports_the_cancellation(
    job_api: RunningJobApi, clients: Clients, video: Path
) -> None:
    await clients.advertise()
    job = await clients.submit(VIDEO)
    cancelled = await forgesyte("--json", "cancel", job.job_id, port=job_api.port)
    assert cancelled.code == 0
    assert cancelled.json()["status"] == "cancelled"

    watched = await forgesyte("watch", job.job_id, port=job_api.port)
    assert watched.code == 1
    assert watched.one_error_line() == f"job {job.job_id} cancelled"


async def test_cancel_of_a_running_job_asks_its_worker(
    job_api: RunningJobApi, clients: Clients, video: Path
) -> None:
    await clients.advertise()
    job = await clients.submit(VIDEO)
    await clients.claim()
    result = await forgesyte("cancel", job.job_id, port=job_api.port)
    assert result.code == 0
    assert "cancellation requested" in result.stdout
    assert (await clients.status(job.job_id)).cancel_requested


async def test_watch_of_a_completed_job_exits_0_at_once(
    job_api: RunningJobApi, clients: Clients, video: Path
) -> None:
    job_id = await completed_job(clients)
    result = await forgesyte("watch", job_id, port=job_api.port)
    assert result.code == 0
    assert f"job {job_id} completed" in result.stdout


async def test_results_to_a_file_and_to_stdout(
    job_api: RunningJobApi, clients: Clients, video: Path, tmp_path: Path
) -> None:
    job_id = await completed_job(clients)
    target = tmp_path / "out" / "results.json"
    target.parent.mkdir()

    to_file = await forgesyte("results", job_id, "-o", str(target), port=job_api.port)
    assert to_file.code == 0, to_file.stderr
    assert json.loads(target.read_bytes()) == RESULTS
    assert f"of results to {target}" in to_file.stdout
    assert leftovers(target.parent, "*") == ["results.json"]  # no partial file left

    to_stdout = await forgesyte("results", job_id, port=job_api.port)
    assert json.loads(to_stdout.stdout) == RESULTS

    scripted = await forgesyte("--json", "results", job_id, "-o", str(target), port=job_api.port)
    assert scripted.json() == {
        "job_id": job_id,
        "path": str(target),
        "size_bytes": target.stat().st_size,
    }


# expected failures: one line, the right exit code, no traceback


async def test_unknown_job(job_api: RunningJobApi) -> None:
    job_id = new_job_id()
    for command in ("status", "watch", "cancel", "results"):
        result = await forgesyte(command, job_id, port=job_api.port)
        assert result.code == 4, command
        assert result.one_error_line() == f"job {job_id} not found"


async def test_malformed_job_id(job_api: RunningJobApi) -> None:
    result = await forgesyte("status", "not-a-uuid", port=job_api.port)
    assert result.code == 5
    assert result.one_error_line() == "job_id 'not-a-uuid' is not a valid UUID"


async def test_results_of_an_unfinished_job(
    job_api: RunningJobApi, clients: Clients, video: Path, tmp_path: Path
) -> None:
    await clients.advertise()
    job = await clients.submit(VIDEO)
    target = tmp_path / "results.json"
    result = await forgesyte("results", job.job_id, "-o", str(target), port=job_api.port)
    assert result.code == 5
    assert "pending" in result.one_error_line()
    assert leftovers(tmp_path, "*results.json*") == [], "no file, not even a partial one"


async def test_results_into_a_missing_directory(
    job_api: RunningJobApi, clients: Clients, video: Path, tmp_path: Path
) -> None:
    job_id = await completed_job(clients)
    target = tmp_path / "missing" / "results.json"
    result = await forgesyte("results", job_id, "-o", str(target), port=job_api.port)
    assert result.code == 2
    assert result.one_error_line() == f"cannot write {target}: No such file or directory"


async def test_missing_file(job_api: RunningJobApi, tmp_path: Path) -> None:
    missing = tmp_path / "nope.mp4"
    args = ("submit", str(missing), "--plugin", "motion", "--tool", "detect_motion")
    result = await forgesyte(*args, port=job_api.port)
    assert result.code == 2
    assert result.one_error_line() == f"cannot read {missing}: no such file"
    directory = await forgesyte(
        "submit", str(tmp_path), "--plugin", "motion", "--tool", "detect_motion", port=job_api.port
    )
    assert directory.one_error_line() == f"cannot read {tmp_path}: is a directory"


@pytest.mark.parametrize(
    "case",
    [
        ("nope", "detect_motion", "unknown plugin 'nope'; available plugins: motion"),
        ("motion", "nope", "plugin 'motion' has no tool 'nope'; available tools: detect_motion, "),
        ("motion", "describe_image", "tool motion/describe_image does not accept video input"),
    ],
)
async def test_unknown_plugin_or_tool(
    job_api: RunningJobApi, clients: Clients, video: Path, case: tuple[str, str, str]
) -> None:
    plugin, tool, message = case
    await clients.advertise()
    result = await forgesyte(
        "submit", str(video), "--plugin", plugin, "--tool", tool, port=job_api.port
    )
    assert result.code == 5
    assert result.one_error_line().startswith(message)


async def test_job_api_unreachable(video: Path) -> None:
    port = free_port()
    for args in (
        ("status", new_job_id()),
        ("list",),
        ("plugins",),
        ("submit", str(video), "--plugin", "motion", "--tool", "detect_motion"),
    ):
        result = await forgesyte(*args, port=port)
        assert result.code == 3, args
        assert result.one_error_line() == (
            f"cannot reach the job API at 127.0.0.1:{port} (connection refused); "
            "is it running? `forgesyte up` starts one"
        )


async def test_the_address_comes_from_the_environment(
    job_api: RunningJobApi, clients: Clients
) -> None:
    await clients.advertise()
    result = await forgesyte(
        "--json", "plugins", port=None, env={"FORGESYTE_JOB_API_ADDR": f"127.0.0.1:{job_api.port}"}
    )
    assert result.code == 0
    assert result.json()["plugins"][0]["id"] == "motion"


async def test_ctrl_c_while_watching_says_the_job_keeps_running(
    job_api: RunningJobApi, clients: Clients
) -> None:
    await clients.advertise()
    job = await clients.submit(VIDEO)
    async with running_forgesyte("watch", job.job_id, port=job_api.port) as cli:
        await cli.stderr_line("waiting for a worker")
        cli.process.send_signal(signal.SIGINT)
        result = await cli.finish()
    assert result.code == 130
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines()[-2:] == [
        "forgesyte: interrupted",
        f"the job keeps running; follow it with: forgesyte watch {job.job_id}",
    ]
    assert (await clients.status(job.job_id)).status == job.status
