"""BulkFiles port: the input side of ingestion (finding, measuring and streaming source files)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from domain.types.ingestion import Cleaning, SourceFormat
from domain.types.partitions import CsvLayout, Partition, PartitionReport, SourceFile

# (fraction done, counters such as rows_read / rows_rejected / rows_written / bytes_read)
PartitionProgress = Callable[[float, Mapping[str, Any]], Awaitable[None]]


@dataclass(frozen=True)
class StagingTask:
    """One partition to turn into staged Parquet files, one per dedupe shard (and a rejects file when rows
    are bad). With more than one shard, each row goes to the file its `shard_column` value hashes to, by
    the same hash in every process (see domain/services/ingestion_shards.py)."""

    partition: Partition
    columns: tuple[str, ...]  # the header every piece must have, in order
    column_types: Mapping[str, str]  # column -> Arrow type alias (CSV parsing, Parquet casts)
    cleaning: Cleaning
    staged_uris: tuple[str, ...]  # overwritten on a re-run, so a redone partition replaces itself
    rejects_uri: str
    shard_column: str | None = None


class BulkFiles(Protocol):
    """Sources are local paths, globs or URIs. Memory is bounded by the batch size, not the file size.

    Errors: InvalidSpec for a missing source, an unknown format or a file that cannot be parsed
    at all; TransientError when a remote store may answer on retry. Methods are safe to cancel
    (a cancelled staging leaves at most a stale staged file, replaced by the next run).
    """

    async def expand(self, sources: Sequence[str], format: SourceFormat) -> Sequence[SourceFile]:
        """Every file the sources name (globs expanded, sorted), with size, format, header and row groups.

        Cheap enough to run before a 202: reads each file's header sample or footer, never a whole file.
        """
        ...

    async def csv_layout(self, uri: str, targets: Sequence[int]) -> CsvLayout:
        """Snap each target byte offset to the next line start; count lines; detect quoted newlines.

        Reads the whole file. SourceChanged when it is gone (since `expand` found it).
        """
        ...

    async def stage(self, task: StagingTask, progress: PartitionProgress) -> PartitionReport:
        """Stream the partition's record batches, clean them, write the staged Parquet files and rejects.

        Rejects (wrong column count, unparseable values) are written with their line numbers to
        `task.rejects_uri`, counted, never silently dropped. Runs in a worker process when the
        adapter has a pool; `progress` is called in the caller's event loop.
        """
        ...
