"""Exit codes and the one translation of failures into one-line messages.

Scripts branch on the exit code, people read the line; neither should ever
see a traceback for something that is expected to go wrong (the job API is
down, the job id is unknown, the file is missing). Every command raises
:class:`CliError` or lets a gRPC error through, and ``runner.run_command``
turns both into ``forgesyte: <message>`` on stderr and the matching code.
"""

from __future__ import annotations

from enum import IntEnum

import grpc


class ExitCode(IntEnum):
    """What ``forgesyte`` exits with; documented in ``forgesyte --help``."""

    OK = 0
    NOT_COMPLETED = 1
    """The job failed or was cancelled, ``smoke`` found a deviation, or ``up`` gave up."""
    USAGE = 2
    """Bad arguments or an unreadable input file (click's code for usage errors)."""
    UNAVAILABLE = 3
    """The job API could not be reached or did not answer in time."""
    NOT_FOUND = 4
    """No job has that id."""
    REJECTED = 5
    """The job API refused the request: malformed id, unknown plugin or tool,
    empty or too large upload, results of an unfinished job."""
    UNAUTHENTICATED = 6
    """FORGESYTE_API_TOKEN is missing or wrong."""
    INTERRUPTED = 130
    """Ctrl-C (128 + SIGINT, as shells report it)."""


EXIT_CODES_HELP = (
    "Exit codes: 0 ok; 1 job failed or was cancelled (smoke: a check failed; up: gave up); "
    "2 bad arguments or file; 3 job API unreachable; 4 unknown job; "
    "5 request rejected (malformed id, unknown plugin/tool, unfinished job); "
    "6 missing or wrong FORGESYTE_API_TOKEN; 130 interrupted."
)


class CliError(Exception):
    """An expected failure: one line for stderr and the exit code to return."""

    def __init__(self, message: str, exit_code: ExitCode) -> None:
        super().__init__(message)
        self.message = one_line(message)
        self.exit_code = exit_code


_EXIT_FOR_STATUS: dict[grpc.StatusCode, ExitCode] = {
    grpc.StatusCode.UNAVAILABLE: ExitCode.UNAVAILABLE,
    grpc.StatusCode.DEADLINE_EXCEEDED: ExitCode.UNAVAILABLE,
    grpc.StatusCode.NOT_FOUND: ExitCode.NOT_FOUND,
    grpc.StatusCode.INVALID_ARGUMENT: ExitCode.REJECTED,
    grpc.StatusCode.FAILED_PRECONDITION: ExitCode.REJECTED,
    grpc.StatusCode.RESOURCE_EXHAUSTED: ExitCode.REJECTED,
    grpc.StatusCode.ALREADY_EXISTS: ExitCode.REJECTED,
    grpc.StatusCode.OUT_OF_RANGE: ExitCode.REJECTED,
    grpc.StatusCode.UNAUTHENTICATED: ExitCode.UNAUTHENTICATED,
    grpc.StatusCode.PERMISSION_DENIED: ExitCode.UNAUTHENTICATED,
}


def from_rpc_error(error: grpc.aio.AioRpcError, addr: str) -> CliError:
    """The message a person needs for a failed call, and the exit code for scripts.

    The job API's own messages are written to be shown (they name what is
    allowed), so they pass through; only transport failures are reworded,
    because gRPC's text for them is long and names no next step.
    """
    code = error.code()
    details = error.details() or code.name
    exit_code = _EXIT_FOR_STATUS.get(code, ExitCode.NOT_COMPLETED)
    if code == grpc.StatusCode.UNAVAILABLE:
        message = f"cannot reach the job API at {addr} ({_transport_reason(details)})"
        if "shutting down" not in details:
            message += "; is it running? `forgesyte up` starts one"
        return CliError(message, exit_code)
    if code == grpc.StatusCode.DEADLINE_EXCEEDED:
        return CliError(f"the job API at {addr} did not answer in time", exit_code)
    if code in (grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED):
        return CliError(f"{details} (set FORGESYTE_API_TOKEN)", exit_code)
    return CliError(details, exit_code)


def _transport_reason(details: str) -> str:
    lowered = details.lower()
    if "connection refused" in lowered:
        return "connection refused"
    if "shutting down" in lowered:
        return "it is shutting down"
    if "dns resolution failed" in lowered or "name resolution" in lowered:
        return "unknown host"
    return details


def one_line(text: str, limit: int = 500) -> str:
    """Collapse whitespace so a message can never span lines."""
    collapsed = " ".join(text.split())
    return collapsed if len(collapsed) <= limit else collapsed[: limit - 1] + "…"
