"""`mlplane train SPEC --follow`: submit over HTTP, then follow the job's WebSocket live."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from typing import Any

import aiohttp
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

STAGE_WEIGHTS = {"load": 0.1, "fit": 0.8}  # the rest: evaluate + store
# Text from the daemon or the user (messages, names, paths) is escaped before it meets rich markup:
# a failure naming columns ['a', 'b'] or holding '[/]' must print as it is, not vanish or raise.
# No emoji codes either: ':x:' in a path or message stays ':x:'.
console = Console(stderr=True, emoji=False)


EXIT_FAILED = 1  # the work ran and did not succeed: a job ended failed or cancelled, a replay stopped part-way
EXIT_NOT_RUN = 2  # the request was not carried out: bad input, a daemon unreachable or refusing it


class ClientError(Exception):
    pass


def daemon_url(args: argparse.Namespace) -> str:
    return str(args.url or os.environ.get("MLPLANE_URL") or "http://127.0.0.1:8080").rstrip("/")


def print_error(message: str) -> None:
    """One line however long (a script reads it), as written (no rich markup in paths, URLs or replies)."""
    console.print(message, style="red", markup=False, soft_wrap=True)


def unreachable(url: str, exc: aiohttp.ClientError) -> int:
    """The one message and exit code of every client command whose daemon does not answer."""
    print_error(f"cannot reach mlplane at {url}: {exc}")
    return EXIT_NOT_RUN


def train_command(args: argparse.Namespace) -> int:
    url = daemon_url(args)
    token = args.token or os.environ.get("MLPLANE_TOKEN")
    try:  # the file alone: a connection error is an OSError too, and is not the file's fault
        spec = json.loads(sys.stdin.read() if str(args.spec) == "-" else args.spec.read_text())
    except (OSError, ValueError) as exc:  # ValueError: not JSON, or not UTF-8 text
        print_error(f"cannot read the spec {args.spec}: {exc}")
        return EXIT_NOT_RUN
    try:
        return asyncio.run(_train(url, token, spec, args.follow))
    except ClientError as exc:
        print_error(str(exc))
    except aiohttp.ClientError as exc:
        return unreachable(url, exc)
    return EXIT_NOT_RUN


def client_session(token: str | None) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(headers={"Authorization": f"Bearer {token}"} if token else {})


async def submit(session: aiohttp.ClientSession, url: str, body: Any) -> dict[str, Any]:
    """POST a job-creating request; anything but 202 becomes a ClientError with the server's message."""
    async with session.post(url, json=body) as response:
        try:
            answer = await response.json(content_type=None)
        except ValueError:  # an HTML page, a proxy's error: whatever answered, it is not mlplane
            raise ClientError(f"{url} answered {response.status} without mlplane's JSON: is --url an mlplane "
                              "daemon?") from None
        if response.status != 202:
            error = answer.get("error", {}) if isinstance(answer, dict) else {}
            raise ClientError(f"rejected ({response.status}): {error.get('message', answer)}")
    return dict(answer)


async def _train(url: str, token: str | None, spec: Any, follow: bool) -> int:
    async with client_session(token) as session:
        body = await submit(session, f"{url}/v1/training-jobs", spec)
        console.print(f"job [bold]{escape(body['job_id'])}[/] queued")
        print(body["job_id"], flush=True)
        if not follow:
            return 0
        return await _follow(session, url, body["events_url"])


async def _follow(session: aiohttp.ClientSession, url: str, events_path: str) -> int:
    ws_base = url.replace("http://", "ws://", 1).replace("https://", "wss://", 1) + events_path
    last_id: str | None = None
    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                  TimeElapsedColumn(), console=console) as progress:
        bar = progress.add_task("queued", total=1.0)
        for _attempt in range(30):  # reconnect after drops, resuming after the last event seen
            target = ws_base + (f"?after={last_id}" if last_id else "")
            try:
                async with session.ws_connect(target, heartbeat=20) as socket:
                    async for message in socket:
                        event = json.loads(message.data)
                        last_id = event["id"]
                        outcome = _show(progress, bar, event)
                        if outcome is not None:
                            return outcome
            except aiohttp.ClientConnectionError:
                pass
            await asyncio.sleep(1.0)
    raise ClientError("lost the event stream and could not reconnect")


def _show(progress: Progress, bar: Any, event: dict[str, Any]) -> int | None:
    kind, data = event["type"], event["data"]
    if kind == "progress":
        stage, fraction = data.get("stage", ""), float(data.get("fraction", 0))
        done = {"load": 0.0, "fit": 0.1}.get(stage, 0.9) + STAGE_WEIGHTS.get(stage, 0.1) * fraction
        progress.update(bar, description=escape(stage), completed=min(done, 1.0))
    elif kind == "data_loaded":
        progress.console.print(f"data: {data['rows_read']} rows read, {data['duplicates_dropped']} duplicates "
                               "(same features and label) and "
                               f"{data['null_rows_dropped']} rows with nulls dropped, {data['rows_used']} used")
    elif kind == "evaluated":
        metrics = ", ".join(f"{k}={v:.4g}" for k, v in data["metrics"].items())
        progress.console.print(f"metrics: {escape(metrics)}")
    elif kind == "completed":
        progress.update(bar, description="completed", completed=1.0)
        progress.console.print(f"[green]model {escape(data['model_name'])} version {data['version']} is ready")
        return 0
    elif kind in ("failed", "cancelled"):
        reason = str(data.get("message") or "")  # a cancel carries none: no dangling colon then
        progress.console.print(f"[red]job {kind}" + (f": {escape(reason)}" if reason else ""))
        return EXIT_FAILED
    else:
        progress.update(bar, description=escape(kind))
    return None
