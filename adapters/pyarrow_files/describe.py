"""What the planner needs to know about one file: format, size, header and types, Parquet row groups."""

from __future__ import annotations

import io
from typing import IO

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from adapters.pyarrow_files.locations import RemoteConfig, open_binary, size
from domain.types.errors import InvalidSpec
from domain.types.ingestion import SourceFormat, check_column_names
from domain.types.partitions import SourceFile

SNIFF_BYTES = 1 << 20  # CSV types are inferred from the first MiB of the first file
_INT = r"^\s*[-+]?\d+\s*$"
_FLOAT = r"^\s*[-+]?(\d+\.?\d*([eE][-+]?\d+)?|\.\d+([eE][-+]?\d+)?|nan|NaN|inf|Infinity)\s*$"
_PARQUET_MAGIC = b"PAR1"


def describe(uri: str, wanted: SourceFormat, gcs: RemoteConfig | None) -> SourceFile:
    try:
        fmt = wanted if wanted is not SourceFormat.AUTO else detect_format(uri, gcs)
        return _parquet(uri, gcs) if fmt is SourceFormat.PARQUET else _csv(uri, gcs)
    except UnicodeDecodeError as exc:  # pyarrow decodes column names strictly
        raise InvalidSpec(f"{uri} is not readable as {wanted.value}: its column names are not UTF-8 text ({exc.reason} "
                          f"at byte {exc.start}); save the file as UTF-8", {"field": "sources", "source": uri}) from exc
    except (pa.ArrowInvalid, OSError) as exc:
        raise InvalidSpec(f"{uri} is not readable as {wanted.value}: {exc}", {"field": "format",
                                                                              "source": uri}) from exc


def detect_format(uri: str, gcs: RemoteConfig | None) -> SourceFormat:
    name = uri.lower()
    if name.endswith((".parquet", ".pq")):
        return SourceFormat.PARQUET
    if name.endswith((".csv", ".txt", ".tsv", ".csv.gz")):
        return SourceFormat.CSV
    with open_binary(uri, gcs) as handle:  # no telling suffix: Parquet files start with PAR1
        return SourceFormat.PARQUET if handle.read(4) == _PARQUET_MAGIC else SourceFormat.CSV


def _parquet(uri: str, gcs: RemoteConfig | None) -> SourceFile:
    total = size(uri, gcs)
    if total == 0:  # pyarrow's own words ("Parquet file size is 0 bytes") read as a fault of the reader
        raise InvalidSpec(f"{uri} is empty (0 bytes): a Parquet file holds at least its footer; write it again, "
                          "or leave it out of the sources", {"field": "sources", "source": uri})
    with open_binary(uri, gcs) as handle:
        meta = pq.ParquetFile(handle).metadata
    schema = meta.schema.to_arrow_schema()
    check_column_names(uri, schema.names)
    groups = tuple(meta.row_group(i).num_rows for i in range(meta.num_row_groups))
    return SourceFile(uri, SourceFormat.PARQUET, total, tuple(schema.names), _aliases(schema), groups,
                      rows=meta.num_rows, spread=_integer_ranges(meta, schema))


def _csv(uri: str, gcs: RemoteConfig | None) -> SourceFile:
    with open_binary(uri, gcs) as handle:
        head = _head(handle)
    total = size(uri, gcs)
    _check_header_line(uri, head, total)
    head.partition(b"\n")[0].partition(b"\r")[0].decode()  # a header not UTF-8 raises: describe() refuses it
    # Sampled as text with bad bytes replaced: a non-UTF-8 value must not make its column binary (BLOB) for
    # every row, and pyarrow cannot hand a row that is both ragged and not UTF-8 to the handler below.
    text = head.decode(errors="replace").encode()
    options = pacsv.ReadOptions(block_size=max(SNIFF_BYTES, len(text)), use_threads=False)
    parse = pacsv.ParseOptions(invalid_row_handler=lambda row: "skip")  # bad rows are the partitions' business
    convert = pacsv.ConvertOptions(strings_can_be_null=True)
    with pacsv.open_csv(io.BytesIO(text), read_options=options, parse_options=parse,
                        convert_options=convert) as reader:
        check_column_names(uri, reader.schema.names)
        try:
            sample = reader.read_next_batch()
        except StopIteration:  # a header and no rows: the columns are known, their types are not
            sample = pa.RecordBatch.from_pylist([], schema=reader.schema)
    types = _aliases(sample.schema)
    for name in sample.schema.names:  # one bad value in the sample must not make a number column text
        if types.get(name) == "string" and (numeric := _mostly_numeric(sample.column(name))):
            types[name] = numeric
    spread = {name: _distinct(sample.column(name)) for name in sample.schema.names}
    return SourceFile(uri, SourceFormat.CSV, total, tuple(sample.schema.names), types, rows=_rows(head, total),
                      spread=spread)


def _check_header_line(uri: str, head: bytes, total: int) -> None:
    """A CSV file starts with its header line: say so when there is none (pyarrow's words name no file)."""
    if not head:
        raise InvalidSpec(f"{uri} is empty: no header line; a CSV file starts with a line naming its columns",
                          {"field": "sources", "source": uri})
    if len(head) == total and not head.strip(b"\r\n"):
        raise InvalidSpec(f"{uri} holds only blank lines: no header line; a CSV file starts with a line naming its "
                          "columns", {"field": "sources", "source": uri})


def _distinct(column: pa.Array) -> int:
    """Distinct values in a sampled column; an all-empty one (type null, which count_distinct refuses) has none."""
    return 0 if pa.types.is_null(column.type) else int(pc.count_distinct(column).as_py())


def _integer_ranges(meta: pq.FileMetaData, schema: pa.Schema) -> dict[str, int]:
    """How many values each integer column can hold at most (max - min + 1 over the row groups'
    statistics): a footer has no sample, but a 0/1 flag still shows as 2. Others stay unknown."""
    spread = {}
    for index, field in enumerate(schema):
        stats = [meta.row_group(g).column(index).statistics for g in range(meta.num_row_groups)]
        if pa.types.is_integer(field.type) and stats and all(s is not None and s.has_min_max for s in stats):
            spread[field.name] = int(max(s.max for s in stats)) - int(min(s.min for s in stats)) + 1
    return spread


def _rows(head: bytes, total: int) -> int:
    """Data rows in the whole file at the head's bytes per line: a guess (it only sizes the commit's shards)."""
    lines = head.count(b"\n")
    return 0 if lines <= 1 else round((lines - 1) * total / len(head))


def _head(handle: IO[bytes]) -> bytes:
    """The first SNIFF_BYTES cut after the last whole line (on to the header's end if it is longer).

    Read here rather than by pyarrow's streaming reader, which reads tens of MiB ahead: a submit must
    not download a large remote file to learn its header."""
    head = handle.read(SNIFF_BYTES)
    while b"\n" not in head and (more := handle.read(SNIFF_BYTES)):
        head += more
    return head[:head.rfind(b"\n") + 1] if handle.read(1) else head


def _mostly_numeric(column: pa.Array) -> str | None:
    """'int64' or 'double' when at least 99% of the sample's values are such numbers."""
    values = column.drop_null()
    if len(values) == 0:
        return None
    for alias, pattern in (("int64", _INT), ("double", _FLOAT)):
        if pc.sum(pc.match_substring_regex(values, pattern)).as_py() >= 0.99 * len(values):
            return alias
    return None


def _aliases(schema: pa.Schema) -> dict[str, str]:
    """Arrow types that round-trip through pyarrow.type_for_alias; others stay as the reader infers them."""
    out: dict[str, str] = {}
    for field in schema:
        alias = "double" if pa.types.is_floating(field.type) else str(field.type)
        if pa.types.is_null(field.type):
            alias = "string"  # an all-empty sample column: keep it text, never drop rows for it
        try:
            pa.type_for_alias(alias)
        except ValueError:
            continue
        out[field.name] = alias
    return out
