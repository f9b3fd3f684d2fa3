"""In-memory job registry and job resources.

Jobs finish synchronously inside the request that creates them, so clients see
``state: DONE`` at once; results stay here (as Arrow) for getQueryResults paging.
Job ids chosen by the client are honoured: re-inserting one answers 409.
"""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass, field

import pyarrow as pa

from .errors import ApiError, duplicate, not_found

DEFAULT_LOCATION = "US"
# Result rows kept across all jobs; the oldest results are dropped beyond this so a
# long-running emulator does not grow without bound (BigQuery keeps them ~24 h).
RETAINED_ROWS = 10_000_000


def _ms() -> str:
    return str(int(time.time() * 1000))


@dataclass
class Job:
    project: str
    job_id: str
    location: str
    configuration: dict
    state: str = "RUNNING"
    created: str = field(default_factory=_ms)
    ended: str | None = None
    error: ApiError | None = None
    fields: list[dict] = field(default_factory=list)
    table: pa.Table | None = None
    statistics: dict = field(default_factory=dict)
    expired: bool = False

    @property
    def reference(self) -> dict:
        return {"projectId": self.project, "jobId": self.job_id, "location": self.location}

    @property
    def total_rows(self) -> int:
        return self.table.num_rows if self.table is not None else 0

    def finish(self, error: ApiError | None = None) -> None:
        self.error = error
        self.state = "DONE"
        self.ended = _ms()

    def resource(self) -> dict:
        status: dict = {"state": self.state}
        if self.error is not None:
            status["errorResult"] = self.error.error_proto()
            status["errors"] = [self.error.error_proto()]
        stats = {"creationTime": self.created, "startTime": self.created, **self.statistics}
        if self.ended:
            stats["endTime"] = self.ended
        return {
            "kind": "bigquery#job",
            "id": f"{self.project}:{self.location}.{self.job_id}",
            "selfLink": f"/bigquery/v2/projects/{self.project}/jobs/{self.job_id}",
            "jobReference": self.reference,
            "configuration": self.configuration,
            "status": status,
            "statistics": stats,
            "user_email": "emulator@localhost",
        }


class JobStore:
    def __init__(self) -> None:
        self._jobs: dict[tuple[str, str], Job] = {}
        self._lock = threading.Lock()

    def reserve(self, project: str, body: dict) -> Job:
        """Register a new job from a jobs.insert body; 409 if its id is taken."""
        ref = body.get("jobReference") or {}
        job_id = ref.get("jobId") or f"job_{uuid.uuid4().hex}"
        project = ref.get("projectId") or project
        config = dict(body.get("configuration") or {})
        job = Job(project, job_id, ref.get("location") or DEFAULT_LOCATION, config)
        with self._lock:
            if (project, job_id) in self._jobs:
                raise duplicate(f"Job {project}:{job.location}.{job_id}")
            self._jobs[(project, job_id)] = job
        return job

    def evict(self) -> None:
        """Drop the oldest result sets once more than RETAINED_ROWS rows are held."""
        kept = 0
        with self._lock:
            for old in reversed(list(self._jobs.values())):  # newest first
                kept += old.total_rows
                if kept > RETAINED_ROWS and old.table is not None:
                    old.table, old.expired = None, True

    def get(self, project: str, job_id: str) -> Job:
        with self._lock:
            job = self._jobs.get((project, job_id))
        if job is None:
            raise not_found(f"Job {project}:{job_id}")
        return job

    def list(self, project: str) -> list[Job]:
        with self._lock:
            jobs = [j for (p, _), j in self._jobs.items() if p == project]
        return sorted(jobs, key=lambda j: j.created, reverse=True)

    def delete(self, project: str, job_id: str) -> None:
        with self._lock:
            if self._jobs.pop((project, job_id), None) is None:
                raise not_found(f"Job {project}:{job_id}")

    def clear(self) -> None:
        with self._lock:
            self._jobs.clear()
