"""Write docs/VERIFICATION.md: what the test suite checked, and the figures
the benchmark suite measured, with the date.

    python tools/verification_report.py                 # runs the tests itself
    python tools/verification_report.py --junit FILE    # uses a finished run

Tests are grouped by area (the folder under tests/), each listed with the
first line of its docstring, so the page reads as a catalogue of behaviours
and faults that were exercised. Figures come from the newest full run in
tests/bench/results.jsonl; nothing is typed in by hand.
"""

from __future__ import annotations

import argparse
import ast
import json
import subprocess
import sys
import tempfile
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from xml.etree import ElementTree

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "docs" / "VERIFICATION.md"
BENCH_RESULTS = ROOT / "tests" / "bench" / "results.jsonl"


@dataclass(frozen=True)
class Outcome:
    """One test case from a JUnit report."""

    file: str
    name: str
    result: str
    seconds: float


def run_tests(junit: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={junit}"],
        cwd=ROOT,
        check=False,
    )


def read_junit(path: Path) -> list[Outcome]:
    outcomes = []
    for case in ElementTree.parse(path).getroot().iter("testcase"):
        result = "passed"
        for tag in ("failure", "error", "skipped"):
            if case.find(tag) is not None:
                result = "failed" if tag in ("failure", "error") else "skipped"
        classname = case.get("classname", "")
        file = classname.replace(".", "/") + ".py"
        outcomes.append(Outcome(file, case.get("name", ""), result, float(case.get("time", 0))))
    return outcomes


def first_paragraph(docstring: str | None) -> str:
    """A docstring's opening paragraph on one line (sentences often wrap)."""
    return " ".join((docstring or "").split("\n\n")[0].split())


def module_docstrings(path: Path) -> tuple[str, dict[str, str]]:
    """A test module's summary and each test function's, as first paragraphs."""
    tree = ast.parse(path.read_text())
    functions = {
        node.name: first_paragraph(ast.get_docstring(node))
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and ast.get_docstring(node)
    }
    return first_paragraph(ast.get_docstring(tree)), functions


def area_of(file: str) -> str:
    parts = Path(file).parts
    return "/".join(parts[1:3]) if len(parts) > 3 else parts[1] if len(parts) > 1 else file


def latest_full_benchmark() -> dict[str, object] | None:
    if not BENCH_RESULTS.exists():
        return None
    rows = [json.loads(line) for line in BENCH_RESULTS.read_text().splitlines() if line.strip()]
    full = [row for row in rows if row.get("label") == "full"]
    return full[-1] if full else None


def render(outcomes: list[Outcome], benchmark: dict[str, object] | None) -> str:
    counts = Counter(o.result for o in outcomes)
    lines = [
        "# What was verified",
        "",
        f"Generated {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by"
        " `python tools/verification_report.py` from a run of the whole test suite and the"
        " newest full benchmark run. Do not edit by hand.",
        "",
        f"**{counts['passed']} passed, {counts['failed']} failed, {counts['skipped']} skipped**"
        f" in {sum(o.seconds for o in outcomes):.0f} s of test time.",
        "",
        "## Tests by area",
        "",
        "| area | tests | passed | what they cover |",
        "|---|---|---|---|",
    ]
    by_area: dict[str, list[Outcome]] = defaultdict(list)
    for outcome in outcomes:
        by_area[area_of(outcome.file)].append(outcome)
    for area, cases in sorted(by_area.items()):
        files = sorted({c.file for c in cases})
        summaries = [module_docstrings(ROOT / f)[0] for f in files if (ROOT / f).exists()]
        cover = "; ".join(s.rstrip(".") for s in summaries if s)
        passed = sum(c.result == "passed" for c in cases)
        lines.append(f"| `{area}` | {len(cases)} | {passed} | {cover} |")
    lines += ["", "## Every test", ""]
    for file in sorted({o.file for o in outcomes}):
        path = ROOT / file
        summary, functions = module_docstrings(path) if path.exists() else ("", {})
        lines.append(f"### `{file}`" + (f": {summary}" if summary else ""))
        lines.append("")
        for outcome in (o for o in outcomes if o.file == file):
            base = outcome.name.split("[")[0]
            note = functions.get(base, "")
            mark = {"passed": "✓", "failed": "✗", "skipped": "skipped"}[outcome.result]
            text = f"- {mark} `{outcome.name}`" + (f": {note}" if note else "")
            lines.append(text)
        lines.append("")
    lines += ["## Figures measured", ""]
    if benchmark is None:
        lines.append("No full benchmark run recorded yet: run `python -m tests.bench`.")
    else:
        lines.append(
            f"From the full benchmark run of {benchmark['date']} (commit {benchmark['commit']},"
            f" {benchmark['machine']}); `python -m tests.bench` measures them again."
        )
        lines += ["", "| benchmark | value | unit |", "|---|---|---|"]
        figures = benchmark["figures"]
        assert isinstance(figures, dict)
        for name, (value, unit) in figures.items():
            lines.append(f"| {name} | {value:,} | {unit} |")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--junit", type=Path, help="a JUnit XML report of a finished run")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        junit = options.junit or Path(scratch) / "junit.xml"
        if options.junit is None:
            run_tests(junit)
        outcomes = read_junit(junit)
    options.output.parent.mkdir(parents=True, exist_ok=True)
    options.output.write_text(render(outcomes, latest_full_benchmark()))
    print(f"wrote {options.output.relative_to(ROOT)} ({len(outcomes)} tests)")
    return 0 if all(o.result == "passed" for o in outcomes) else 1


if __name__ == "__main__":
    raise SystemExit(main())
