"""`mlplane stream replay FILE --rate N`: replay a CSV/Parquet file into a stream over the API.

Rows become flat JSON events (timestamps as RFC 3339), posted in small batches paced to the
requested rate (`--rate 0`: as fast as the daemon accepts them). Memory is one record batch.
"""

from __future__ import annotations

import argparse
import asyncio
import decimal
import functools
import json
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from domain.types.errors import InvalidIdentifier
from domain.types.identifiers import stream_name
from entrypoints.client import EXIT_FAILED, EXIT_NOT_RUN, daemon_url, unreachable

TICK_S = 0.1  # pacing granularity: one POST per tick at most
# What reading a file can raise: missing or a directory (OSError), not CSV/Parquet (ArrowInvalid, a
# ValueError), not UTF-8 names (UnicodeDecodeError), a timestamp past year 9999 (OverflowError).
READ_ERRORS = (OSError, ValueError, OverflowError, pa.ArrowException)


def open_batches(path: Path, chunk: int) -> Iterator[pa.RecordBatch]:
    """The file's record batches. Opening reads the header (CSV) or footer (Parquet), so a file that cannot
    be replayed fails here, before any event is sent."""
    if path.suffix.lower() in (".parquet", ".pq"):
        batches: Iterator[pa.RecordBatch] = pq.ParquetFile(path).iter_batches(batch_size=chunk)
        return batches
    return iter(pa_csv.open_csv(path, read_options=pa_csv.ReadOptions(block_size=1 << 20)))


def rows(batches: Iterator[pa.RecordBatch], chunk: int) -> Iterator[list[dict[str, Any]]]:
    for batch in batches:
        records = batch.to_pylist()
        for start in range(0, len(records), chunk):
            yield [_jsonable(r) for r in records[start : start + chunk]]


def _jsonable(row: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in row.items() if v is not None}


def _json_value(value: Any) -> Any:
    """Values JSON has no type for: decimals as numbers, bytes as text, anything else as its text."""
    if isinstance(value, decimal.Decimal):
        return float(value)
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


async def replay(url: str, token: str | None, stream: str, batches: Iterator[pa.RecordBatch], rate: float) -> int:
    per_post = max(1, int(rate * TICK_S)) if rate > 0 else 1000
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    sent, started = 0, time.monotonic()
    dumps = functools.partial(json.dumps, default=_json_value)
    async with aiohttp.ClientSession(headers=headers, json_serialize=dumps) as session:
        for events in rows(batches, per_post):
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
        batches = open_batches(args.file, 1000)
        stream = args.stream or stream_name(args.file.stem)
    except InvalidIdentifier as exc:  # --stream is checked by argparse; the file's name is the default
        print(f"mlplane: {exc.message}; name the stream with --stream", file=sys.stderr)
        return EXIT_NOT_RUN
    except READ_ERRORS as exc:
        print(f"mlplane: cannot replay {args.file}: {exc}", file=sys.stderr)
        return EXIT_NOT_RUN
    try:
        return asyncio.run(replay(url, token, stream, batches, args.rate))
    except aiohttp.ClientError as exc:  # before READ_ERRORS: a connection error is an OSError too
        return unreachable(url, exc)  # the same line and code as every client command
    except READ_ERRORS as exc:
        print(f"mlplane: {args.file} could not be read to the end: {exc}", file=sys.stderr)
    return EXIT_FAILED
