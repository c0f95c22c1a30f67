"""The verification report renders a run's outcomes and the benchmark figures."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tools import verification_report as report

JUNIT = """<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest" tests="3">
<testcase classname="tests.unit.test_config" name="test_sizes_parse[2 GiB-2147483648]" time="0.01"/>
<testcase classname="tests.unit.test_config" name="test_every_variable_is_read" time="0.02"/>
<testcase classname="tests.unit.job_api.test_pagination" name="test_a_token_round_trips" time="0.5">
<failure message="boom">trace</failure></testcase>
</testsuite></testsuites>
"""


def test_outcomes_are_read_from_junit(tmp_path: Path) -> None:
    path = tmp_path / "junit.xml"
    path.write_text(JUNIT)
    outcomes = report.read_junit(path)
    assert [(o.file, o.result) for o in outcomes] == [
        ("tests/unit/test_config.py", "passed"),
        ("tests/unit/test_config.py", "passed"),
        ("tests/unit/job_api/test_pagination.py", "failed"),
    ]


def test_the_page_counts_groups_and_lists_figures(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "junit.xml"
    path.write_text(JUNIT)
    results = tmp_path / "results.jsonl"
    row = {
        "date": "2026-11-24T03:00:00+00:00",
        "label": "full",
        "commit": "abc1234",
        "machine": {"cpus": 2},
        "figures": {"status vs empty handler | 1 in flight": [1.11, "ratio"]},
    }
    results.write_text(json.dumps({**row, "label": "quick"}) + "\n" + json.dumps(row) + "\n")
    monkeypatch.setattr(report, "BENCH_RESULTS", results)
    page = report.render(report.read_junit(path), report.latest_full_benchmark())
    assert "**2 passed, 1 failed, 0 skipped**" in page
    assert "| `unit/job_api` | 1 | 0 | Page sizes and opaque page tokens |" in page
    assert "Settings from the environment" in page
    assert "- ✗ `test_a_token_round_trips`" in page
    assert "| status vs empty handler | 1 in flight | 1.11 | ratio |" in page
    assert "commit abc1234" in page


def test_summaries_are_whole_first_paragraphs() -> None:
    text = "Load and soak: a long\nsentence that wraps.\n\nDetails that are left out."
    assert report.first_paragraph(text) == "Load and soak: a long sentence that wraps."
    assert report.first_paragraph(None) == ""
