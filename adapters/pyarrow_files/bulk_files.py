"""PyArrowBulkFiles: the BulkFiles port on local files, with staging run in a process pool.

Partitions never touch the warehouse, so they run in any process: the daemon's pool, a separate
`mlplane worker --queue ingestion`, or a Cloud Run Job task. pyarrow (~50 MiB) is loaded by the
first call that reads a file, not when the daemon starts: a daemon that never ingests never pays.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any

import anyio

from adapters._shared.process_jobs import ProcessJobs
from adapters.pyarrow_files.local_roots import ANYWHERE, LocalRoots
from adapters.pyarrow_files.locations import RemoteConfig, expand
from domain.types.errors import InvalidSpec, PermanentError, SourceChanged, TransientError
from domain.types.ingestion import SourceFormat
from domain.types.partitions import CsvLayout, PartitionReport, SourceFile
from ports.bulk_files import PartitionProgress, StagingTask


class PyArrowBulkFiles:
    def __init__(self, pool: Executor | None, gcs: RemoteConfig | None = None, roots: LocalRoots = ANYWHERE) -> None:
        self._jobs = ProcessJobs(pool)
        self._gcs = gcs  # Cloud Storage (none in 'local') and the http(s) hosts sources may use
        self._roots = roots  # which local files sources may name

    async def expand(self, sources: Sequence[str], format: SourceFormat) -> list[SourceFile]:
        from adapters.pyarrow_files.describe import describe

        def run() -> list[SourceFile]:
            try:
                uris = [u for source in sources for u in expand(source, self._gcs, self._roots)]
            except (ConnectionError, TimeoutError) as exc:  # OSErrors too, but a storage hiccup, not a bad name
                raise TransientError(f"listing the sources failed: {exc}") from exc
            except OSError as exc:  # a name past the system's limits (ENAMETOOLONG), a directory it may not list
                named = str(exc.filename or ", ".join(sources))[:300]
                raise InvalidSpec(f"source {named!r} cannot be read: {exc.strerror or exc}",
                                  {"field": "sources"}) from exc
            return [describe(u, format, self._gcs) for u in dict.fromkeys(uris)]  # a file named twice is read once

        return await anyio.to_thread.run_sync(run)

    async def csv_layout(self, uri: str, targets: Sequence[int]) -> CsvLayout:
        from adapters.pyarrow_files.csv_scan import csv_layout

        google = _google_errors(self._gcs)
        try:
            return await anyio.to_thread.run_sync(csv_layout, uri, list(targets), self._gcs)
        except (FileNotFoundError, *google.missing) as exc:
            raise SourceChanged(f"source file vanished before the ingestion was planned: {uri}",
                                {"field": "sources", "source": uri}) from exc
        except (ConnectionError, *google.transient) as exc:
            raise TransientError(f"{uri}: storage unavailable while planning: {exc}", {"source": uri}) from exc
        except (OSError, *google.other) as exc:
            raise PermanentError(f"{uri} could not be read to plan its partitions: {exc}", {"source": uri}) from exc

    async def stage(self, task: StagingTask, progress: PartitionProgress) -> PartitionReport:
        async def forward(stage: str, fraction: float, extra: Mapping[str, Any]) -> None:
            await progress(fraction, extra)

        import pyarrow as pa

        from adapters.pyarrow_files.staging import stage_partition

        google = _google_errors(self._gcs)
        try:
            report: PartitionReport = await self._jobs.run(stage_partition, task, self._gcs, progress=forward)
        except FileNotFoundError as exc:
            raise InvalidSpec(f"source file vanished before its partition ran: {exc.filename}",
                              {"field": "sources"}) from exc
        except (ConnectionError, *google.transient) as exc:
            raise TransientError(f"partition {task.partition.index}: storage unavailable: {exc}") from exc
        except (OSError, pa.ArrowException, *google.other) as exc:
            files = ", ".join(dict.fromkeys(p.uri for p in task.partition.pieces))  # a partition may read several
            raise PermanentError(f"partition {task.partition.index} could not be staged ({files}): {exc}") from exc
        return report

    def close(self) -> None:
        self._jobs.close()


@dataclass(frozen=True)
class _GoogleErrors:
    missing: tuple[type[Exception], ...] = ()
    transient: tuple[type[Exception], ...] = ()
    other: tuple[type[Exception], ...] = ()


def _google_errors(gcs: RemoteConfig | None) -> _GoogleErrors:
    """The Cloud Storage client's errors, when gs:// sources are configured: only then can they occur,
    and only then are the Google modules loaded (~22 MiB a process without them does not pay)."""
    if gcs is None or gcs.project is None:
        return _GoogleErrors()
    from google.api_core import exceptions as gexc

    return _GoogleErrors((gexc.NotFound,), (gexc.ServerError, gexc.TooManyRequests), (gexc.GoogleAPICallError,))
