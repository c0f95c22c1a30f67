"""The one way ForgeSyte clients open a gRPC channel to the job API.

Plaintext or TLS by configuration (``tls``), keepalives so idle streams
survive proxies, quick reconnects after a job API restart, and round-robin
over every address a ``dns:///`` name resolves to (several replicas).
"""

from __future__ import annotations

from collections.abc import Sequence

import grpc

from services.common.tls import TlsSettings, channel_credentials

MAX_MESSAGE_BYTES = 8 * 1024 * 1024
CHANNEL_OPTIONS: tuple[tuple[str, int | str], ...] = (
    ("grpc.lb_policy_name", "round_robin"),
    ("grpc.keepalive_time_ms", 30_000),
    ("grpc.initial_reconnect_backoff_ms", 200),
    ("grpc.max_reconnect_backoff_ms", 2_000),
    ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
    ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
)


def open_channel(
    addr: str,
    tls: TlsSettings | None = None,
    extra_options: Sequence[tuple[str, int | str]] = (),
) -> grpc.aio.Channel:
    options = [*CHANNEL_OPTIONS, *extra_options]
    credentials = channel_credentials(tls) if tls is not None else None
    if credentials is None:
        return grpc.aio.insecure_channel(addr, options=options)
    return grpc.aio.secure_channel(addr, credentials, options=options)
