"""Structured logging for every ForgeSyte process.

Logs are one JSON object per line on stderr (easy to ship and to grep by
``job_id``); ``FORGESYTE_LOG_FORMAT=console`` gives a readable layout for
people at a terminal. Context such as ``job_id`` is bound with structlog's
contextvars, which are per asyncio task and so per RPC.
"""

from __future__ import annotations

import logging
import os
import sys

import structlog


def configure_logging(service: str, level: str | None = None) -> None:
    """Route stdlib and structlog output through one JSON renderer."""
    level_name = (level or os.environ.get("FORGESYTE_LOG_LEVEL") or "INFO").upper()
    console = os.environ.get("FORGESYTE_LOG_FORMAT", "json").lower() == "console"
    renderer: structlog.types.Processor = (
        structlog.dev.ConsoleRenderer(colors=False)
        if console
        else structlog.processors.JSONRenderer()
    )
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                renderer,
            ],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level_name)
    structlog.contextvars.bind_contextvars(service=service)
