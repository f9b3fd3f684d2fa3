"""Translation of google-cloud-bigquery exceptions into mlplane's error family, in one place.

Both the translation and the extra retry predicate used after a load conflict come from the
same classification, so "transient" means one thing throughout the adapter. Messages reach job
records and log lines, so they carry BigQuery's own words without any SQL (see `cause_text`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import requests
from google.api_core import exceptions as gexc
from google.auth.exceptions import TransportError

from domain.types.errors import InvalidSpec, MlplaneError, PermanentError, TableNotFound, TransientError

# Reasons BigQuery puts on errors that may succeed when tried again (the client's own list,
# plus the job-level spellings a failed job reports in errorResult).
_TRANSIENT_REASONS = frozenset({
    "rateLimitExceeded", "backendError", "internalError", "badGateway",
    "jobRateLimitExceeded", "jobBackendError", "jobInternalError",
})
# BadRequest reasons that mean the caller's data or request does not fit (e.g. a Parquet column
# whose type clashes with the table): the caller can fix it. Other 400s are permanent refusals.
_INVALID_REASONS = frozenset({"invalid", "invalidQuery"})
# TimeoutError covers concurrent.futures.TimeoutError, raised by job.result(timeout=...).
_NETWORK_ERRORS = (requests.ConnectionError, requests.Timeout, ConnectionError, TimeoutError, TransportError)
# A DuckDB-backed engine (our emulator) quotes the statement after its message ("LINE 1: SELECT ...");
# the client appends each error's "; reason: ..., message: ..." (the message again), and after a blank
# line the job's location and id. None of it is the cause.
_QUOTED_SQL = re.compile(r"\s*\bLINE \d+:.*", re.DOTALL)
_CLIENT_SUFFIX = "; reason: "
_REQUEST_PREFIX = re.compile(r"^[A-Z]+ https?://\S+: ")  # the client's "GET https://...: " before the message
_MAX_CAUSE = 500


def reason_of(exc: BaseException) -> str:
    """The first `errors[].reason` BigQuery attached to `exc`, or ''."""
    errors = getattr(exc, "errors", None) or [{}]
    first = errors[0] if isinstance(errors[0], dict) else {}
    return str(first.get("reason") or "")


def is_transient(exc: BaseException) -> bool:
    if isinstance(exc, requests.exceptions.SSLError):
        return False  # a certificate problem does not heal by retrying
    if isinstance(exc, (*_NETWORK_ERRORS, gexc.RetryError, TransientError)):
        return True  # RetryError: the client's retries on transient errors ran out of time
    if not isinstance(exc, gexc.GoogleAPICallError):
        return False
    if reason_of(exc) in _TRANSIENT_REASONS:
        return True
    return isinstance(exc, gexc.TooManyRequests | gexc.ServerError) and not isinstance(
        exc, gexc.MethodNotImplemented)


def cause_text(exc: BaseException) -> str:
    """BigQuery's message for `exc`, without the SQL or job footer after it, bounded for a log line."""
    if isinstance(exc, gexc.RetryError) and exc.cause is not None:
        return f"{cause_text(exc.cause)} (still failing when the retries ran out of time)"
    if isinstance(exc, TimeoutError):
        return "no answer in time (a job still running is waited for again by the next try)"
    message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    first = _QUOTED_SQL.sub("", str(message).split("\n\n")[0].split(_CLIENT_SUFFIX)[0])
    first = _REQUEST_PREFIX.sub("", first.strip())
    return first if len(first) <= _MAX_CAUSE else first[:_MAX_CAUSE] + "..."


def to_domain(exc: BaseException, table: str | None) -> MlplaneError | None:
    """The mlplane error for a vendor exception, or None when it is not a vendor error."""
    message = cause_text(exc)
    details: dict[str, Any] = {"table": table, "reason": reason_of(exc)}
    if isinstance(exc, gexc.NotFound):
        # list_tables passes no table: then it was the dataset that vanished under us.
        where = f"no table named {table!r} in the warehouse" if table else "the warehouse dataset is gone"
        return TableNotFound(where, details)
    if is_transient(exc):
        return TransientError(f"BigQuery is unavailable for now: {message}", details)
    if isinstance(exc, gexc.BadRequest) and details["reason"] in _INVALID_REASONS:
        return InvalidSpec(f"BigQuery refused the request: {message}", details)
    if isinstance(exc, gexc.GoogleAPICallError):
        return PermanentError(f"BigQuery refused the request: {message}", details)
    return None


@contextmanager
def translated(table: str | None = None) -> Iterator[None]:
    """Re-raise vendor exceptions from the block as the matching mlplane error."""
    try:
        yield
    except MlplaneError:
        raise
    except Exception as exc:
        mapped = to_domain(exc, table)
        if mapped is None:
            raise
        raise mapped from exc
