"""Pages of query results, shared by jobs.query and jobs.getQueryResults."""

from __future__ import annotations

from .encode import encode_rows
from .errors import not_found
from .jobs import Job
from .state import EmulatorState

# Real BigQuery caps a page at ~10 MB; a row cap keeps responses similarly bounded.
DEFAULT_PAGE_ROWS = 50_000


def _slice(job: Job, max_results: int | None, token: str | None, start_index: int | None):
    start = int(token) if token and token.isdigit() else (start_index or 0)
    size = DEFAULT_PAGE_ROWS if max_results is None else min(max_results, DEFAULT_PAGE_ROWS)
    end = min(start + size, job.total_rows)
    data = job.table.slice(start, max(end - start, 0)) if job.table is not None else None
    return data, (str(end) if end < job.total_rows and size else None)


async def results_page(state: EmulatorState, job: Job, max_results: int | None,
                       token: str | None, start_index: int | None = None) -> dict:
    """Body fields common to getQueryResults and jobs.query responses."""
    if job.expired:
        raise not_found(f"Results of job {job.project}:{job.job_id} have expired")
    query_stats = job.statistics.get("query", {})
    body: dict = {
        "jobReference": job.reference,
        "jobComplete": True,
        "schema": {"fields": job.fields},
        "totalRows": str(job.total_rows),
        "totalBytesProcessed": query_stats.get("totalBytesProcessed", "0"),
        "cacheHit": False,
    }
    if "numDmlAffectedRows" in query_stats:
        body["numDmlAffectedRows"] = query_stats["numDmlAffectedRows"]
    data, next_token = _slice(job, max_results, token, start_index)
    if data is not None and data.num_rows:
        # Encoding is CPU work without DuckDB: run it off the loop but outside the lock.
        body["rows"] = await state.engine.offload(encode_rows, data, job.fields)
    # No "rows" key when empty: the client would take an empty list as the first page.
    if next_token:
        body["pageToken"] = next_token
    return body
