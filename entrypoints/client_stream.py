"""`mlplane stream replay FILE --rate N`: replay a CSV/Parquet file into a stream over the API.

Rows become flat JSON events, posted in small batches paced to the requested rate (`--rate 0`: as
fast as the daemon accepts them). Memory is one record batch (a 1 MiB block of a CSV).

A Parquet file's values keep their types (timestamps as RFC 3339). A CSV has none: each cell is read
as text and sent as what it holds, an integer, else a finite number, else the text itself; an empty
cell is left out of its event. No type is guessed for a whole column from its first rows, so one odd
cell (`0.5` after 60,000 integers, `n/a` among numbers) changes that cell only: the pipeline
dead-letters its one event with the reason, and the replay goes on.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import decimal
import functools
import json
import math
import os
import re
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from domain.types.errors import InvalidIdentifier
from domain.types.identifiers import stream_name
from entrypoints.client import EXIT_FAILED, EXIT_NOT_RUN, daemon_url, unreachable

TICK_S = 0.1  # pacing granularity: one POST per tick at most
CSV_BLOCK_BYTES = 1 << 20
# What reading a file can raise: missing or a directory (OSError), not CSV/Parquet (ArrowInvalid, a
# ValueError), not UTF-8 names (UnicodeDecodeError), a timestamp past year 9999 (OverflowError).
READ_ERRORS = (OSError, ValueError, OverflowError, pa.ArrowException)
_INTEGER = re.compile(r"[+-]?[0-9]+")
_NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def open_records(path: Path) -> Iterator[list[dict[str, Any]]]:
    """The file's rows as JSON-ready events (nulls left out), one list per record batch. Opening reads the
    header (CSV) or footer (Parquet), so a file that cannot be replayed fails here, before any event is sent."""
    if path.suffix.lower() in (".parquet", ".pq"):
        return ([_jsonable(r) for r in batch.to_pylist()]
                for batch in pq.ParquetFile(path).iter_batches(batch_size=1000))
    return (_typed_rows(batch) for batch in _csv_as_text(path))


def _csv_as_text(path: Path) -> pa_csv.CSVStreamingReader:
    """Every column as text (empty cells as null), read block by block: types are decided per cell."""
    blocks = pa_csv.ReadOptions(block_size=CSV_BLOCK_BYTES)
    with pa_csv.open_csv(path, read_options=blocks) as header:  # only for the column names
        names = header.schema.names
    as_text = pa_csv.ConvertOptions(column_types={name: pa.string() for name in names}, null_values=[""],
                                    strings_can_be_null=True, quoted_strings_can_be_null=True)
    return pa_csv.open_csv(path, read_options=blocks, convert_options=as_text)


def _typed_rows(batch: pa.RecordBatch) -> list[dict[str, Any]]:
    names = batch.schema.names
    columns = [_column_values(column) for column in batch.columns]
    cells = zip(*columns, strict=True)
    return [{k: v for k, v in zip(names, values, strict=True) if v is not None} for values in cells]


def _column_values(column: pa.Array) -> list[Any]:
    """The cells as `cell_value` reads them. Arrow converts a column of plain integers, or of finite
    numbers none of which is an integer, in one call; a column mixing kinds is read cell by cell."""
    integers = pc.match_substring_regex(column, f"^{_INTEGER.pattern}$")
    with contextlib.suppress(pa.ArrowInvalid):  # ArrowInvalid: a "+1", or past the 64-bit range
        if pc.all(integers).as_py():
            return list(column.cast(pa.int64()).to_pylist())
        if not pc.any(integers).as_py():
            floats = column.cast(pa.float64())
            if pc.all(pc.is_finite(floats)).as_py():  # else "nan", "1e999": text, cell by cell
                return list(floats.to_pylist())
    return [cell_value(text) for text in column.to_pylist()]


def cell_value(text: str | None) -> Any:
    """A CSV cell as an event value: an integer, else a finite number, else the text (null stays null)."""
    if text is None:
        return None
    number = text.strip()
    if _INTEGER.fullmatch(number):
        try:
            return int(number)
        except ValueError:  # past Python's 4300-digit limit: not a finite number either
            return text
    if _NUMBER.fullmatch(number) and math.isfinite(value := float(number)):
        return value
    return text


def rows(records: Iterator[list[dict[str, Any]]], chunk: int) -> Iterator[list[dict[str, Any]]]:
    for batch in records:
        for start in range(0, len(batch), chunk):
            yield batch[start : start + chunk]


def _jsonable(row: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in row.items() if v is not None}


def _json_value(value: Any) -> Any:
    """Values JSON has no type for: decimals as numbers, bytes as text, anything else as its text."""
    if isinstance(value, decimal.Decimal):
        return float(value)
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


async def replay(url: str, token: str | None, stream: str, records: Iterator[list[dict[str, Any]]],
                 rate: float) -> int:
    per_post = max(1, int(rate * TICK_S)) if rate > 0 else 1000
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    sent, started = 0, time.monotonic()
    dumps = functools.partial(json.dumps, default=_json_value)
    async with aiohttp.ClientSession(headers=headers, json_serialize=dumps) as session:
        for events in rows(records, per_post):
            async with session.post(f"{url}/v1/streams/{stream}/events", json={"events": events}) as reply:
                if reply.status != 202:
                    print(f"mlplane: the daemon refused a batch after {sent} events ({reply.status}): "
                          f"{await _reason(reply)}", file=sys.stderr)
                    return EXIT_FAILED
            sent += len(events)
            if rate > 0 and (ahead := sent / rate - (time.monotonic() - started)) > 0:
                await asyncio.sleep(ahead)
    elapsed = time.monotonic() - started
    print(json.dumps({"stream": stream, "events": sent, "seconds": round(elapsed, 2),
                      "events_per_s": round(sent / elapsed, 1) if elapsed else None}))
    return 0


async def _reason(reply: aiohttp.ClientResponse) -> str:
    """The error's message from an mlplane answer; otherwise the start of the body, on one line."""
    text = await reply.text(errors="replace")
    try:
        return str(json.loads(text)["error"]["message"])
    except (ValueError, TypeError, KeyError):
        return " ".join(text.split())[:200] + " (is --url an mlplane daemon?)"


def stream_command(args: argparse.Namespace) -> int:
    url = daemon_url(args)
    token = args.token or os.environ.get("MLPLANE_TOKEN")
    try:
        records = open_records(args.file)
        stream = args.stream or stream_name(args.file.stem)
    except InvalidIdentifier as exc:  # --stream is checked by argparse; the file's name is the default
        print(f"mlplane: {exc.message}; name the stream with --stream", file=sys.stderr)
        return EXIT_NOT_RUN
    except READ_ERRORS as exc:
        print(f"mlplane: cannot replay {args.file}: {exc}", file=sys.stderr)
        return EXIT_NOT_RUN
    try:
        return asyncio.run(replay(url, token, stream, records, args.rate))
    except aiohttp.ClientError as exc:  # before READ_ERRORS: a connection error is an OSError too
        return unreachable(url, exc)  # the same line and code as every client command
    except READ_ERRORS as exc:
        print(f"mlplane: {args.file} could not be read to the end: {exc}", file=sys.stderr)
    return EXIT_FAILED
