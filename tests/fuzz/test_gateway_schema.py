"""Schemathesis against the gateway's own OpenAPI document: for every route,
generated requests (valid and invalid) never get a 5xx, and every response
matches what the document promises (status, content type, body schema).

The document is built from the gateway's code, so it is loaded without a
server; the requests go to real job API, worker and gateway processes.
The number of examples per route is bounded to keep the suite quick.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi import checks

from services.gateway.openapi import build_spec
from tests.support.api import WORKER_TOKEN
from tests.support.processes import job_api_env, read_listening_port, running_process, script

schema = schemathesis.openapi.from_dict(build_spec("fuzz"))
# What the gateway promises for any input. Whether a schema-valid request is
# *accepted* also depends on live facts (which plugins exist, which job ids),
# so "positive data acceptance" is not among them.
CHECKS = [
    not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
    checks.response_headers_conformance,
]
EXAMPLES_PER_ROUTE = 30


@pytest.fixture(scope="module")
def gateway_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data_dir: Path = tmp_path_factory.mktemp("fuzz") / "data"
    with ExitStack() as processes:
        api = processes.enter_context(
            running_process([script("forgesyte-job-api")], job_api_env(data_dir))
        )
        addr = f"127.0.0.1:{read_listening_port(api)}"
        quiet = {"FORGESYTE_JOB_API_ADDR": addr, "FORGESYTE_LOG_LEVEL": "WARNING"}
        # A worker advertises the real plugins, so submissions can be accepted.
        processes.enter_context(
            running_process(
                [script("forgesyte-worker")], {**quiet, "FORGESYTE_WORKER_TOKEN": WORKER_TOKEN}
            )
        )
        gateway = processes.enter_context(
            running_process([script("forgesyte-gateway"), "--addr", "127.0.0.1:0"], quiet)
        )
        yield f"http://127.0.0.1:{read_listening_port(gateway)}"


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_ROUTE,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_no_server_errors_and_every_response_matches_the_schema(
    case: schemathesis.Case[Any], gateway_url: str
) -> None:
    case.call_and_validate(base_url=gateway_url, timeout=15, checks=CHECKS)
