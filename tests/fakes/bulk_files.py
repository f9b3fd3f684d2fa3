"""InMemoryBulkFiles: the BulkFiles port on in-memory CSV texts and Arrow tables, for unit tests.

Staged "files" are Arrow tables in `staged`, keyed by URI; InMemoryWarehouse reads them from there.
"""

from __future__ import annotations

import fnmatch
import io
from collections.abc import Sequence

import pyarrow as pa
import pyarrow.csv as pacsv

from domain.services.ingestion_cleaning import drop_null_rows
from domain.types.errors import InvalidSpec, SourceChanged
from domain.types.ingestion import SourceFormat
from domain.types.partitions import CsvLayout, PartitionReport, SourceFile
from ports.bulk_files import PartitionProgress, StagingTask


class InMemoryBulkFiles:
    def __init__(self) -> None:
        self.csv: dict[str, bytes] = {}
        self.parquet: dict[str, tuple[pa.Table, int]] = {}  # uri -> (rows, row group size)
        self.staged: dict[str, pa.Table] = {}
        self.stage_calls: list[int] = []
        self.layout_calls: list[str] = []  # URIs scanned whole for their cut points
        self.rejected_per_partition = 0  # pretend this many bad rows per partition went to rejects

    def add_csv(self, uri: str, text: str) -> None:
        self.csv[uri] = text.encode()

    def add_parquet(self, uri: str, rows: pa.Table, row_group_rows: int) -> None:
        self.parquet[uri] = (rows, row_group_rows)

    async def expand(self, sources: Sequence[str], format: SourceFormat) -> list[SourceFile]:
        found: list[SourceFile] = []
        for source in sources:
            names = sorted(n for n in (*self.csv, *self.parquet) if fnmatch.fnmatch(n, source))
            if not names:
                raise InvalidSpec(f"no file matches source {source!r}", {"field": "sources"})
            found.extend(self._describe(n) for n in names)
        return found

    def _describe(self, uri: str) -> SourceFile:
        if uri in self.parquet:
            rows, size = self.parquet[uri]
            groups = tuple(min(size, rows.num_rows - s) for s in range(0, rows.num_rows, size))
            return SourceFile(uri, SourceFormat.PARQUET, rows.nbytes, tuple(rows.column_names), {}, groups)
        header = self.csv[uri].split(b"\n", 1)[0].decode()
        return SourceFile(uri, SourceFormat.CSV, len(self.csv[uri]), tuple(header.split(",")), {})

    async def csv_layout(self, uri: str, targets: Sequence[int]) -> CsvLayout:
        self.layout_calls.append(uri)
        if uri not in self.csv:
            raise SourceChanged(f"source file vanished before the ingestion was planned: {uri}", {"field": "sources"})
        data = self.csv[uri]
        header_end = data.index(b"\n") + 1
        cuts = sorted({header_end, *(c for t in targets if (c := data.find(b"\n", t - 1) + 1) and c < len(data))})
        lines = tuple(data.count(b"\n", 0, c) + 1 for c in cuts)
        in_quotes, quoted = False, False
        for char in data.decode():
            in_quotes ^= char == '"'
            quoted |= in_quotes and char == "\n"
        return CsvLayout(tuple(cuts), lines, quoted, len(data))

    async def stage(self, task: StagingTask, progress: PartitionProgress) -> PartitionReport:
        self.stage_calls.append(task.partition.index)
        batches = [self._rows(p.uri, p.start, p.end, p.row_groups, task.columns) for p in task.partition.pieces]
        rows = pa.concat_tables(batches).combine_chunks()
        await progress(0.5, {"rows_read": rows.num_rows})
        kept, dropped = drop_null_rows(rows.to_batches()[0] if rows.num_rows else rows, task.cleaning.drop_nulls)
        table = pa.table(kept) if isinstance(kept, pa.RecordBatch) else kept
        for shard, uri in enumerate(task.staged_uris):  # every row in the first shard: duplicates still meet
            self.staged[uri] = table if shard == 0 else table.slice(0, 0)
        await progress(1.0, {"rows_read": rows.num_rows})
        bad = self.rejected_per_partition
        return PartitionReport(task.partition.index, rows.num_rows + bad, bad, dropped, kept.num_rows,
                               task.partition.bytes, task.staged_uris, task.rejects_uri if bad else None)

    def _rows(self, uri: str, start: int, end: int, groups: Sequence[int], columns: Sequence[str]) -> pa.Table:
        if uri in self.parquet:
            rows, size = self.parquet[uri]
            return pa.concat_tables([rows.slice(g * size, size) for g in groups]) if groups else rows
        data = self.csv[uri][start: None if end < 0 else end]
        options = pacsv.ReadOptions(column_names=list(columns), skip_rows=1 if start == 0 else 0)
        return pacsv.read_csv(io.BytesIO(data), read_options=options)
