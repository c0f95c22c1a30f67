"""TLS for gRPC, by configuration.

Server side (the job API): ``FORGESYTE_TLS_CERT`` and ``FORGESYTE_TLS_KEY``
turn TLS on; ``FORGESYTE_TLS_CLIENT_CA`` additionally requires every client
to present a certificate signed by that CA (mutual TLS).

Client side (workers, gateway, CLI): ``FORGESYTE_TLS_CA`` is the CA that
signed the job API's certificate and turns TLS on;
``FORGESYTE_TLS_CLIENT_CERT`` and ``FORGESYTE_TLS_CLIENT_KEY`` are the
client's own certificate for mutual TLS. All values are paths to PEM files.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import grpc


class TlsConfigError(ValueError):
    """A TLS setting is incomplete or names a file that cannot be read."""


@dataclass(frozen=True)
class TlsSettings:
    """Paths of the PEM files, each None when not configured."""

    cert_file: Path | None = None
    key_file: Path | None = None
    client_ca_file: Path | None = None
    ca_file: Path | None = None
    client_cert_file: Path | None = None
    client_key_file: Path | None = None

    @property
    def serves_tls(self) -> bool:
        return self.cert_file is not None

    @property
    def connects_with_tls(self) -> bool:
        return self.ca_file is not None


TLS_VARIABLES = {
    "FORGESYTE_TLS_CERT": "cert_file",
    "FORGESYTE_TLS_KEY": "key_file",
    "FORGESYTE_TLS_CLIENT_CA": "client_ca_file",
    "FORGESYTE_TLS_CA": "ca_file",
    "FORGESYTE_TLS_CLIENT_CERT": "client_cert_file",
    "FORGESYTE_TLS_CLIENT_KEY": "client_key_file",
}


def load_tls(environ: Mapping[str, str]) -> TlsSettings:
    values = {
        field: Path(environ[name].strip())
        for name, field in TLS_VARIABLES.items()
        if environ.get(name, "").strip()
    }
    settings = TlsSettings(**values)
    _require_pair(settings.cert_file, settings.key_file, "FORGESYTE_TLS_CERT", "FORGESYTE_TLS_KEY")
    _require_pair(
        settings.client_cert_file,
        settings.client_key_file,
        "FORGESYTE_TLS_CLIENT_CERT",
        "FORGESYTE_TLS_CLIENT_KEY",
    )
    if settings.client_ca_file is not None and settings.cert_file is None:
        raise TlsConfigError("FORGESYTE_TLS_CLIENT_CA needs FORGESYTE_TLS_CERT and _KEY as well")
    return settings


def server_credentials(tls: TlsSettings) -> grpc.ServerCredentials | None:
    """Credentials for the job API's port, or None to serve plaintext."""
    if tls.cert_file is None or tls.key_file is None:
        return None
    pair = (_read(tls.key_file, "FORGESYTE_TLS_KEY"), _read(tls.cert_file, "FORGESYTE_TLS_CERT"))
    if tls.client_ca_file is None:
        return grpc.ssl_server_credentials([pair])
    return grpc.ssl_server_credentials(
        [pair],
        root_certificates=_read(tls.client_ca_file, "FORGESYTE_TLS_CLIENT_CA"),
        require_client_auth=True,
    )


def channel_credentials(tls: TlsSettings) -> grpc.ChannelCredentials | None:
    """Credentials for connecting to the job API, or None for plaintext."""
    if tls.ca_file is None:
        return None
    client_key = client_cert = None
    if tls.client_cert_file is not None and tls.client_key_file is not None:
        client_key = _read(tls.client_key_file, "FORGESYTE_TLS_CLIENT_KEY")
        client_cert = _read(tls.client_cert_file, "FORGESYTE_TLS_CLIENT_CERT")
    return grpc.ssl_channel_credentials(
        root_certificates=_read(tls.ca_file, "FORGESYTE_TLS_CA"),
        private_key=client_key,
        certificate_chain=client_cert,
    )


def _require_pair(
    first: Path | None, second: Path | None, first_name: str, second_name: str
) -> None:
    if (first is None) != (second is None):
        raise TlsConfigError(f"{first_name} and {second_name} must be set together")


def _read(path: Path, variable: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise TlsConfigError(f"{variable}={path}: {error.strerror}") from None
