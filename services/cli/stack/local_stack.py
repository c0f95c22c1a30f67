"""The local ForgeSyte stack: which processes, with which settings, healthy when.

Everything is configured through the environment the services already
read (see ARCHITECTURE.md), so ``up`` passes nothing a person could not set
by hand. In particular the worker token, generated when
``FORGESYTE_WORKER_TOKEN`` is unset, reaches the children only through their
environment: command lines are visible to every user of the machine.

An address with port 0 gets a free port chosen once, here, rather than by
each child: a job API restarted on a new port would strand the workers and
the gateway that were told the old one.
"""

from __future__ import annotations

import errno
import os
import secrets
import shutil
import socket
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from services.cli.errors import CliError, ExitCode
from services.cli.stack.children import ChildSpec
from services.cli.stack.readiness import grpc_serving, http_ok, plugins_advertised
from services.cli.stack.supervisor import Component

JOB_API, WORKER, GATEWAY = "forgesyte-job-api", "forgesyte-worker", "forgesyte-gateway"
WORKER_TOKEN_VARIABLE = "FORGESYTE_WORKER_TOKEN"


@dataclass(frozen=True)
class StackConfig:
    data_dir: Path
    job_api_addr: str
    gateway_addr: str
    workers: int
    worker_concurrency: int
    worker_token: str
    api_token: str | None
    environ: Mapping[str, str]

    @property
    def logs_dir(self) -> Path:
        return self.data_dir / "logs"

    @property
    def web_url(self) -> str:
        return f"http://{connectable(self.gateway_addr)}/"

    @property
    def grpc_target(self) -> str:
        return connectable(self.job_api_addr)

    def child_environment(self) -> dict[str, str]:
        return {
            **self.environ,
            "FORGESYTE_DATA_DIR": str(self.data_dir),
            "FORGESYTE_JOB_API_ADDR": self.job_api_addr,
            "FORGESYTE_GATEWAY_ADDR": self.gateway_addr,
            WORKER_TOKEN_VARIABLE: self.worker_token,
        }


def stack_config(
    environ: Mapping[str, str],
    *,
    data_dir: Path,
    job_api_addr: str,
    gateway_addr: str,
    workers: int,
    worker_concurrency: int,
) -> StackConfig:
    """Resolve ports, the data dir and the worker token; check the ports are free."""
    job_api_addr = claim_address(job_api_addr, "the job API")
    gateway_addr = claim_address(gateway_addr, "the gateway")
    if _port(job_api_addr) == _port(gateway_addr) and _host(job_api_addr) == _host(gateway_addr):
        raise CliError(f"the job API and the gateway cannot share {job_api_addr}", ExitCode.USAGE)
    token = environ.get(WORKER_TOKEN_VARIABLE, "").strip() or secrets.token_urlsafe(32)
    api_token = environ.get("FORGESYTE_API_TOKEN", "").strip() or None
    return StackConfig(
        data_dir=data_dir.expanduser().resolve(),
        job_api_addr=job_api_addr,
        gateway_addr=gateway_addr,
        workers=workers,
        worker_concurrency=worker_concurrency,
        worker_token=token,
        api_token=api_token,
        environ=dict(environ),
    )


def components(config: StackConfig) -> list[Component]:
    """The job API (tier 0), the workers (tier 1), the gateway (tier 2)."""
    env = config.child_environment()

    def spec(name: str, script: str, *args: str) -> ChildSpec:
        return ChildSpec(name, [executable(script), *args], env, config.logs_dir / f"{name}.log")

    result = [Component(spec("job-api", JOB_API), 0, grpc_serving(config.grpc_target))]
    plugins = plugins_advertised(config.grpc_target, config.api_token)
    concurrency = ("--concurrency", str(config.worker_concurrency))
    result += [
        Component(spec(f"worker-{n}", WORKER, *concurrency), 1, plugins)
        for n in range(1, config.workers + 1)
    ]
    result.append(
        Component(spec("gateway", GATEWAY), 2, http_ok(config.web_url, ("/healthz", "/readyz")))
    )
    return result


def executable(name: str) -> str:
    """A console script of this installation: beside the running interpreter first.

    Preferring the interpreter's own bin directory keeps ``up`` from starting
    another installation's services that happen to come first on PATH.
    """
    beside = Path(sys.executable).parent / name
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which(name)
    if found is None:
        raise CliError(
            f"{name} is not installed; install ForgeSyte with: pip install -e .", ExitCode.USAGE
        )
    return found


def claim_address(addr: str, what: str) -> str:
    """``host:0`` → ``host:<free port>``; any other port must be free now."""
    host, port = _host(addr), _port(addr)
    with socket.socket(_family(host), socket.SOCK_STREAM) as probe:
        # SO_REUSEADDR ignores connections lingering in TIME_WAIT but still
        # refuses a port some server is listening on.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host.strip("[]"), port))
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                raise CliError(
                    f"{addr} is already in use, so {what} cannot listen there; "
                    "stop whatever uses it or pick another address",
                    ExitCode.USAGE,
                ) from None
            raise CliError(
                f"{what} cannot listen on {addr}: {error.strerror}", ExitCode.USAGE
            ) from None
        chosen = probe.getsockname()[1]
    return f"{host}:{chosen}"


def connectable(addr: str) -> str:
    """Where a client on this machine reaches a server listening on ``addr``."""
    host, port = _host(addr), _port(addr)
    if host in ("", "0.0.0.0"):
        host = "127.0.0.1"
    elif host in ("[::]", "::"):
        host = "[::1]"
    return f"{host}:{port}"


def _host(addr: str) -> str:
    return addr.rsplit(":", 1)[0]


def _port(addr: str) -> int:
    _, separator, port = addr.rpartition(":")
    if not separator or not port.isdigit():
        raise CliError(f"{addr!r} is not HOST:PORT", ExitCode.USAGE)
    return int(port)


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host.strip("[]") else socket.AF_INET
