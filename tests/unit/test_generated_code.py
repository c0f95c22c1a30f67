"""Generated protobuf code must match the .proto files it came from."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TOOL = ROOT / "tools" / "gen_protos.py"


def check(gen_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(TOOL), "--check", "--gen-dir", str(gen_dir)],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_committed_generated_code_is_fresh() -> None:
    result = check(ROOT / "gen")
    assert result.returncode == 0, result.stderr


def test_the_check_fails_when_generated_code_is_stale(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "gen", tmp_path / "gen", ignore=shutil.ignore_patterns("__pycache__"))
    stub = tmp_path / "gen" / "forgesyte" / "jobs" / "v1" / "job_pb2.pyi"
    stub.write_text(stub.read_text().replace("progress", "percent_done"))
    result = check(tmp_path / "gen")
    assert result.returncode == 1
    assert "generated code is stale" in result.stderr
    assert "jobs/v1/job_pb2.pyi" in result.stderr


def test_import_path_equals_the_proto_package() -> None:
    from forgesyte.jobs.v1 import job_pb2

    assert job_pb2.DESCRIPTOR.package == "forgesyte.jobs.v1"
    assert job_pb2.DESCRIPTOR.name == "forgesyte/jobs/v1/job.proto"
