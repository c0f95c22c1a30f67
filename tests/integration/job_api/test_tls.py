"""gRPC over TLS and mutual TLS, with certificates made by the test."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest

from forgesyte.jobs.v1 import job_service_pb2 as jobs_pb
from forgesyte.jobs.v1 import job_service_pb2_grpc
from services.common.channels import open_channel
from services.common.config import ConfigError, load_settings
from services.common.tls import TlsSettings
from services.job_api.server import RunningJobApi, start_job_api
from tests.conftest import FAST_TIMINGS, job_api_settings
from tests.support.certificates import CertificateAuthority


async def status_code(port: int, tls: TlsSettings | None) -> grpc.StatusCode:
    """What GetJobStatus of an unknown job gives over this kind of channel."""
    async with open_channel(f"127.0.0.1:{port}", tls) as channel:
        stub = job_service_pb2_grpc.JobServiceStub(channel)
        try:
            await stub.GetJobStatus(
                jobs_pb.GetJobStatusRequest(job_id=str(uuid.uuid4())), timeout=5
            )
        except grpc.aio.AioRpcError as error:
            return error.code()
    return grpc.StatusCode.OK


@pytest.fixture
def pki(tmp_path: Path) -> Path:
    (tmp_path / "pki").mkdir()
    return tmp_path / "pki"


async def serve(tmp_path: Path, url: str, tls: TlsSettings) -> RunningJobApi:
    settings = job_api_settings(tmp_path / "data", url, tls=tls)
    return await start_job_api(settings, timings=FAST_TIMINGS)


@pytest.fixture
async def tls_api(
    tmp_path: Path, pki: Path, sqlite_database_url: str
) -> AsyncIterator[tuple[RunningJobApi, CertificateAuthority]]:
    authority = CertificateAuthority(pki)
    server = authority.issue("job-api", server=True)
    api = await serve(tmp_path, sqlite_database_url, TlsSettings(server.cert, server.key))
    yield api, authority
    await api.stop(grace_seconds=1.0)


async def test_tls_clients_trusting_the_ca_get_through(
    tls_api: tuple[RunningJobApi, CertificateAuthority],
) -> None:
    api, authority = tls_api
    trusted = TlsSettings(ca_file=authority.issued.cert)
    assert await status_code(api.port, trusted) == grpc.StatusCode.NOT_FOUND  # reached the API


async def test_plaintext_and_untrusting_clients_are_refused(
    tls_api: tuple[RunningJobApi, CertificateAuthority], tmp_path: Path
) -> None:
    api, _ = tls_api
    stranger = CertificateAuthority(tmp_path / "pki", name="Some Other CA")
    assert await status_code(api.port, None) == grpc.StatusCode.UNAVAILABLE
    untrusting = TlsSettings(ca_file=stranger.issued.cert)
    assert await status_code(api.port, untrusting) == grpc.StatusCode.UNAVAILABLE


async def test_mutual_tls_requires_a_client_certificate_from_the_ca(
    tmp_path: Path, pki: Path, sqlite_database_url: str
) -> None:
    authority = CertificateAuthority(pki)
    server = authority.issue("job-api", server=True)
    client = authority.issue("worker-1", server=False)
    api = await serve(
        tmp_path,
        sqlite_database_url,
        TlsSettings(server.cert, server.key, client_ca_file=authority.issued.cert),
    )
    try:
        with_cert = TlsSettings(
            ca_file=authority.issued.cert,
            client_cert_file=client.cert,
            client_key_file=client.key,
        )
        assert await status_code(api.port, with_cert) == grpc.StatusCode.NOT_FOUND
        without_cert = TlsSettings(ca_file=authority.issued.cert)
        assert await status_code(api.port, without_cert) == grpc.StatusCode.UNAVAILABLE
    finally:
        await api.stop(grace_seconds=1.0)


@pytest.mark.parametrize(
    ("environment", "message"),
    [
        ({"FORGESYTE_TLS_CERT": "a.crt"}, "must be set together"),
        ({"FORGESYTE_TLS_CLIENT_CERT": "c.crt"}, "must be set together"),
        ({"FORGESYTE_TLS_CLIENT_CA": "ca.crt"}, "needs FORGESYTE_TLS_CERT"),
    ],
)
def test_incomplete_tls_settings_are_config_errors(
    environment: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings(environment)
