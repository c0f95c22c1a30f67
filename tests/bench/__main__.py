"""Run the benchmark suite, print the table, append a dated row to results.jsonl.

python -m tests.bench            # full run (a few minutes)
python -m tests.bench --quick    # a short pass that checks the suite works
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from services.common.logging import configure_logging
from tests.bench import bench_gateway, bench_job_api, bench_scale, bench_worker
from tests.bench.harness import RESULTS_FILE, Report


def main() -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.bench", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--quick", action="store_true", help="short runs; figures are rough")
    parser.add_argument("--no-record", action="store_true", help="do not append to results.jsonl")
    parser.add_argument(
        "--results", type=Path, default=RESULTS_FILE, help="where to append the row"
    )
    parser.add_argument(
        "--only",
        choices=["status", "delivery", "worker", "scale", "gateway"],
        help="run one benchmark (nothing is recorded)",
    )
    options = parser.parse_args()
    configure_logging("bench", "WARNING")  # keep the table readable
    report = Report()
    with tempfile.TemporaryDirectory(prefix="forgesyte-bench-") as scratch:
        if options.only in (None, "status", "delivery"):
            bench_job_api.run(report, Path(scratch), options.quick, options.only)
        if options.only in (None, "worker"):
            bench_worker.run(report, Path(scratch) / "worker", options.quick)
        if options.only in (None, "scale"):
            bench_scale.run(report, Path(scratch) / "scale", options.quick)
        if options.only in (None, "gateway"):
            bench_gateway.run(report, Path(scratch) / "gateway", options.quick)
    print()
    print(report.table())
    if not (options.no_record or options.only):
        report.append_to(options.results, "quick" if options.quick else "full")
        print(f"\nappended to {options.results}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
