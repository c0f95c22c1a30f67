"""Shared pieces of the benchmark suite: servers as processes, closed-loop
load, percentiles, and the results table and file.

Benchmarks compare figures measured side by side in one run (these machines
are noisy); the ratio is the figure to quote, not the absolute rate.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RESULTS_FILE = Path(__file__).resolve().parent / "results.jsonl"


@dataclass
class Figure:
    """One row of the results table."""

    benchmark: str
    case: str
    value: float
    unit: str
    note: str = ""


@dataclass
class Report:
    """Every figure of one run."""

    figures: list[Figure] = field(default_factory=list)

    def add(self, benchmark: str, case: str, value: float, unit: str, note: str = "") -> None:
        self.figures.append(Figure(benchmark, case, value, unit, note))
        print(f"  {benchmark:<28} {case:<34} {value:>12,.2f} {unit:<8} {note}", flush=True)

    def table(self) -> str:
        lines = [f"{'benchmark':<28} {'case':<34} {'value':>12} {'unit':<8} note"]
        lines += [
            f"{f.benchmark:<28} {f.case:<34} {f.value:>12,.2f} {f.unit:<8} {f.note}"
            for f in self.figures
        ]
        return "\n".join(lines)

    def append_to(self, path: Path, label: str) -> None:
        row = {
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "label": label,
            "commit": _git_commit(),
            "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
            "figures": {
                f"{f.benchmark} | {f.case}": [round(f.value, 3), f.unit] for f in self.figures
            },
        }
        with path.open("a") as file:
            file.write(json.dumps(row) + "\n")


def _git_commit() -> str:
    result = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    return result.stdout.strip() or "unknown"


@dataclass
class LoadResult:
    """What a closed-loop run measured."""

    calls: int
    seconds: float
    latencies_ms: list[float]

    @staticmethod
    def merge(results: list[LoadResult]) -> LoadResult:
        """Several runs of the same load as one."""
        return LoadResult(
            calls=sum(r.calls for r in results),
            seconds=sum(r.seconds for r in results),
            latencies_ms=sorted(x for r in results for x in r.latencies_ms),
        )

    @property
    def rate(self) -> float:
        return self.calls / self.seconds

    @property
    def p50(self) -> float:
        return percentile(self.latencies_ms, 50)

    @property
    def p99(self) -> float:
        return percentile(self.latencies_ms, 99)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


async def closed_loop(
    call: Callable[[], Awaitable[object]], in_flight: int, seconds: float
) -> LoadResult:
    """``in_flight`` callers, each calling again as soon as its call returns."""
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds

    async def caller() -> None:
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            await call()
            latencies.append((time.perf_counter() - started) * 1000)

    started = time.perf_counter()
    await asyncio.gather(*(caller() for _ in range(in_flight)))
    return LoadResult(len(latencies), time.perf_counter() - started, latencies)


def script_path(name: str) -> str:
    """A console script installed next to the running interpreter."""
    return str(Path(sys.executable).parent / name)


@contextmanager
def server_process(
    module: str, *args: str, env: dict[str, str] | None = None
) -> Iterator[tuple[subprocess.Popen[str], int]]:
    """Run ``python -m module args`` until it prints "port N"; stop it afterwards."""
    process = subprocess.Popen(
        [sys.executable, "-m", module, *args],
        cwd=ROOT,
        env={**os.environ, "FORGESYTE_LOG_LEVEL": "INFO", **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line.startswith("port "):
            raise RuntimeError(f"{module} did not start (exit code {process.poll()})")
        yield process, int(line.split()[1])
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()
