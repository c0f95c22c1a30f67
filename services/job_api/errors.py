"""Expected failures of the job API, independent of gRPC.

The store and the domain layer raise these; one interceptor
(``interceptors.ErrorMappingInterceptor``) turns each into its gRPC status
code. Messages are shown to callers as they are, so they must be safe and
helpful: say what was wrong and what is allowed.
"""

from __future__ import annotations


class DomainError(Exception):
    """Base of every expected failure; its message is safe to show callers."""


class InvalidArgument(DomainError):
    """A request value is malformed or out of range."""


class JobNotFound(DomainError):
    """No job has the given id."""

    def __init__(self, job_id: object) -> None:
        super().__init__(f"job {job_id} not found")
        self.job_id = job_id


class IllegalTransition(DomainError):
    """The job's current state does not allow the requested change."""


class LeaseNotHeld(IllegalTransition):
    """The caller does not hold the job's current lease (it expired or moved on)."""


class UploadTooLarge(DomainError):
    """An upload exceeded the configured size limit."""


class UploadStalled(DomainError):
    """An upload sent nothing for too long; it is abandoned so it holds nothing."""


class DuplicateRequest(DomainError):
    """A request_id was reused for a different submission."""


class StorageUnavailable(DomainError):
    """The database or the file store cannot be reached right now; retry later."""


class ServerShuttingDown(DomainError):
    """The server is stopping; reconnect (to another replica) and carry on."""
