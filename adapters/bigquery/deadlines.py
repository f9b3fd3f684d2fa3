"""How long each kind of BigQuery call keeps retrying before it gives up as a TransientError.

The client's DEFAULT_RETRY retries for 10 minutes: an API request that describes a table (a submit,
GET /v1/tables) then hung that long, and a commit stayed `running` without a word. So every call
names its own deadline: a catalog read in seconds (an API request waits on it), job calls (insert,
poll) in tens of seconds (a queued task waits on them, and the queue retries it with backoff), and
a job's own run longer but bounded. A job outlived by its wait is not lost: its id is fixed, so the
retried task finds the same job and waits for it again (see loads.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from google.api_core import exceptions as gexc
from google.api_core.retry import Retry

from adapters.bigquery.errors import is_transient

DEFAULT_TIMEOUT = 60.0  # seconds for one HTTP request (an upload of rows may be large)
DEFAULT_JOB_TIMEOUT = 600.0  # seconds to wait for one load or query job to finish


@dataclass(frozen=True)
class Deadlines:
    """Seconds each kind of call keeps retrying."""

    catalog_s: float = 10.0  # datasets, table metadata, listings: an API request waits on these
    data_s: float = 60.0  # pages of rows, read by workers
    jobs_s: float = 30.0  # starting a job, looking it up, polling it


DEFAULT_DEADLINES = Deadlines()


@dataclass(frozen=True)
class Call:
    retry: Retry
    timeout: float  # one HTTP request


@dataclass(frozen=True)
class Calls:
    """The client's retry predicate and backoff (`base`), with each kind of call's deadline."""

    catalog: Call
    data: Call
    jobs: Call
    job_lookup: Call  # also retries a 404: right after a 409 BigQuery may briefly not find the job (#2134)

    @classmethod
    def of(cls, base: Retry, deadlines: Deadlines, timeout: float) -> Calls:
        lookup = base.with_predicate(lambda e: isinstance(e, gexc.NotFound) or is_transient(e))
        # A request that hangs must not outlast its call's deadline either.
        return cls(Call(base.with_timeout(deadlines.catalog_s), min(timeout, deadlines.catalog_s)),
                   Call(base.with_timeout(deadlines.data_s), timeout),
                   Call(base.with_timeout(deadlines.jobs_s), min(timeout, deadlines.jobs_s)),
                   Call(lookup.with_timeout(deadlines.jobs_s), min(timeout, deadlines.jobs_s)))
