"""structlog JSON logs, one event a line; stdlib logging (arq, aiohttp, domain) routed through it."""

from __future__ import annotations

import logging
import sys

import structlog
from aiohttp.http_exceptions import BadHttpMessage


def configure_logging(level: str = "info") -> None:
    shared = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(),
        ],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)  # our middleware logs requests
    logging.getLogger("aiohttp.server").addFilter(_client_error_without_traceback)


def _client_error_without_traceback(record: logging.LogRecord) -> bool:
    """aiohttp answers a request it cannot parse (a URL past 8 KB, a broken header) with a 400 itself,
    before any middleware, and logs it as an error with a traceback: that is the client's mistake, and
    one warning line saying what it was is enough."""
    exc = record.exc_info[1] if record.exc_info else None
    if isinstance(exc, BadHttpMessage):
        record.msg, record.args = "%s: %s", (record.getMessage(), exc.message)
        record.exc_info, record.levelno, record.levelname = None, logging.WARNING, "WARNING"
    return True
