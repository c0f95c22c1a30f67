"""With FORGESYTE_API_TOKEN set on the job API, the CLI sends it or says what is missing."""

from __future__ import annotations

import pytest

from services.job_api.server import RunningJobApi
from tests.support.cli import forgesyte

TOKEN = "cli-test-api-token"


@pytest.fixture
def job_api_overrides() -> dict[str, object]:
    return {"api_token": TOKEN}


async def test_without_the_token_the_cli_names_the_variable(job_api: RunningJobApi) -> None:
    result = await forgesyte("list", port=job_api.port)
    assert result.code == 6
    assert result.one_error_line() == (
        "missing credentials: send 'authorization: Bearer <token>' metadata "
        "(set FORGESYTE_API_TOKEN)"
    )


async def test_a_wrong_token_is_refused(job_api: RunningJobApi) -> None:
    result = await forgesyte("list", port=job_api.port, env={"FORGESYTE_API_TOKEN": "guess"})
    assert result.code == 6
    assert "not valid" in result.one_error_line()


async def test_the_token_from_the_environment_is_sent(job_api: RunningJobApi) -> None:
    result = await forgesyte(
        "--json", "list", port=job_api.port, env={"FORGESYTE_API_TOKEN": TOKEN}
    )
    assert result.code == 0, result.stderr
    assert result.json() == {"jobs": []}
