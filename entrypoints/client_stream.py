"""`mlplane stream replay FILE --rate N`: replay a CSV/Parquet file into a stream over the API.

Rows become flat JSON events (timestamps as RFC 3339), posted in small batches paced to the
requested rate (`--rate 0`: as fast as the daemon accepts them). Memory is one record batch.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

TICK_S = 0.1  # pacing granularity: one POST per tick at most


def rows(path: Path, chunk: int) -> Iterator[list[dict[str, Any]]]:
    if path.suffix.lower() in (".parquet", ".pq"):
        batches = pq.ParquetFile(path).iter_batches(batch_size=chunk)
    else:
        batches = iter(pa_csv.open_csv(path, read_options=pa_csv.ReadOptions(block_size=1 << 20)))
    for batch in batches:
        records = batch.to_pylist()
        for start in range(0, len(records), chunk):
            yield [_jsonable(r) for r in records[start : start + chunk]]


def _jsonable(row: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in row.items() if v is not None}


async def replay(url: str, token: str | None, stream: str, path: Path, rate: float) -> int:
    per_post = max(1, int(rate * TICK_S)) if rate > 0 else 1000
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    sent, started = 0, time.monotonic()
    async with aiohttp.ClientSession(headers=headers) as session:
        for events in rows(path, per_post):
            async with session.post(f"{url}/v1/streams/{stream}/events", json={"events": events}) as reply:
                if reply.status != 202:
                    print(f"mlplane: the daemon refused a batch ({reply.status}): {await reply.text()}")
                    return 1
            sent += len(events)
            if rate > 0 and (ahead := sent / rate - (time.monotonic() - started)) > 0:
                await asyncio.sleep(ahead)
    elapsed = time.monotonic() - started
    print(json.dumps({"stream": stream, "events": sent, "seconds": round(elapsed, 2),
                      "events_per_s": round(sent / elapsed, 1) if elapsed else None}))
    return 0


def stream_command(args: argparse.Namespace) -> int:
    url = (args.url or os.environ.get("MLPLANE_URL") or "http://127.0.0.1:8080").rstrip("/")
    token = args.token or os.environ.get("MLPLANE_TOKEN")
    stream = args.stream or args.file.stem
    try:
        return asyncio.run(replay(url, token, stream, args.file, args.rate))
    except aiohttp.ClientError as exc:
        print(f"mlplane: cannot reach mlplane at {url}: {exc}")
        return 1
