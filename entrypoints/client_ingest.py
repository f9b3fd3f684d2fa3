"""`mlplane ingest SOURCE... --table T --follow`: submit over HTTP, then show per-partition progress live."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
from typing import Any

import aiohttp
from rich.markup import escape
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

from entrypoints.client import (
    EXIT_FAILED,
    EXIT_NOT_RUN,
    ClientError,
    client_session,
    console,
    daemon_url,
    print_error,
    submit,
    unreachable,
)

TERMINAL = ("completed", "failed", "cancelled")


def ingest_command(args: argparse.Namespace) -> int:
    url = daemon_url(args)
    token = args.token or os.environ.get("MLPLANE_TOKEN")
    try:
        return asyncio.run(_ingest(url, token, request_body(args), args.follow))
    except ClientError as exc:
        print_error(str(exc))
    except aiohttp.ClientError as exc:
        return unreachable(url, exc)
    return EXIT_NOT_RUN


def request_body(args: argparse.Namespace) -> dict[str, Any]:
    """The same body `POST /v1/ingestions` takes; local paths made absolute (the daemon has another cwd)."""
    sources = [s if "://" in s else os.path.abspath(s) for s in args.sources]
    cleaning: dict[str, Any] = {"dedupe": args.dedupe or "none",
                                "drop_nulls": [c for c in (args.drop_nulls or "").split(",") if c]}
    return {"sources": sources, "table": args.table, "format": args.format, "mode": args.mode,
            "keys": [c for c in (args.keys or "").split(",") if c], "cleaning": cleaning,
            "partitions": "auto" if args.partitions is None else args.partitions,
            "max_reject_ratio": args.max_reject_ratio}


async def _ingest(url: str, token: str | None, body: dict[str, Any], follow: bool) -> int:
    async with client_session(token) as session:
        answer = await submit(session, f"{url}/v1/ingestions", body)
        # The partition count comes later, with the `planned` event (the split is made after the 202).
        planned = f", {answer['partitions']} partition(s)" if answer.get("partitions") is not None else ""
        console.print(f"ingestion [bold]{escape(answer['ingestion_id'])}[/] queued: {answer['sources']} file(s), "
                      f"{answer['bytes_total']:,} bytes{planned}")
        print(answer["ingestion_id"], flush=True)
        return await _follow(session, url, answer["events_url"]) if follow else 0


async def _follow(session: aiohttp.ClientSession, url: str, events_path: str) -> int:
    ws_base = url.replace("http://", "ws://", 1).replace("https://", "wss://", 1) + events_path
    last_id: str | None = None
    columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console) as progress:
        bars: dict[int, Any] = {}
        for _attempt in range(30):  # reconnect after drops, resuming after the last event seen
            try:
                async with session.ws_connect(ws_base + (f"?after={last_id}" if last_id else ""), heartbeat=20) as ws:
                    async for message in ws:
                        event = json.loads(message.data)
                        last_id = event["id"]
                        if (outcome := _show(progress, bars, event)) is not None:
                            return outcome
            except aiohttp.ClientConnectionError:
                pass
            await asyncio.sleep(1.0)
    raise ClientError("lost the event stream and could not reconnect")


def _show(progress: Progress, bars: dict[int, Any], event: dict[str, Any]) -> int | None:
    kind, data = event["type"], event["data"]
    if kind == "progress" and data.get("stage") in ("partition", "staged"):
        index = int(data["partition"])
        if index not in bars:
            bars[index] = progress.add_task(f"partition {index}", total=data.get("bytes_total") or data["bytes_read"])
        progress.update(bars[index], completed=data.get("bytes_read", 0),
                        description=f"partition {index}: {data.get('rows_written', 0):,} rows, "
                                    f"{data.get('rows_rejected', 0):,} rejected")
    elif kind == "progress" and data.get("stage") == "planned":
        progress.console.print(f"planned: {data['partitions']} partition(s)")
    elif kind == "progress" and data.get("stage") == "commit":
        progress.console.print(f"committing {data['rows_staged']:,} staged rows in one load")
    elif kind == "completed":
        progress.console.print(f"[green]table {escape(data['table'])}: {data['rows_loaded']:,} rows loaded "
                               f"({data['rows_read']:,} read, {data['rows_rejected']:,} rejected, "
                               f"{data['null_rows_dropped']:,} with nulls, {data['duplicates_dropped']:,} duplicates)")
        for path in data.get("rejects_files", []):
            progress.console.print(f"rejects: {escape(path)}")
        return 0
    elif kind in ("failed", "cancelled"):
        reason = str(data.get("message") or "")  # a cancel carries none: no dangling colon then
        progress.console.print(f"[red]ingestion {kind}" + (f": {escape(reason)}" if reason else ""))
        return EXIT_FAILED
    return None
