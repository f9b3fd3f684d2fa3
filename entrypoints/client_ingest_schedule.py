"""`mlplane ingest-schedule set|list|delete`: cron schedules that run an ingestion (over the HTTP API)."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
from typing import Any

import aiohttp
from rich.markup import escape

from entrypoints.client import ClientError, client_session, console
from entrypoints.client_ingest import print_error, request_body


def add_schedule_args(sub: argparse._SubParsersAction, spec: argparse.ArgumentParser,  # type: ignore[type-arg]
                      client: argparse.ArgumentParser) -> None:
    """`spec` holds the ingestion options `mlplane ingest` takes (not its sources); `client` --url/--token."""
    schedules = sub.add_parser("ingest-schedule", help="cron schedules that run an ingestion (keep tables fresh)")
    actions = schedules.add_subparsers(dest="schedule_command", required=True)
    put = actions.add_parser("set", parents=[spec, client], help="create or replace a schedule "
                             "(PUT /v1/ingestion-schedules/NAME); sources are expanded again at each fire")
    put.add_argument("name", help="schedule name (letters, digits, '-', '_')")
    put.add_argument("sources", nargs="+", metavar="SOURCE", help="paths, globs or URIs, expanded at each fire")
    put.add_argument("--cron", required=True, help="five-field cron, e.g. '0 * * * *' for hourly")
    put.add_argument("--timezone", default="UTC", help="IANA time zone the cron is read in (default UTC)")
    put.add_argument("--disabled", action="store_true", help="store it without running it")
    actions.add_parser("list", parents=[client], help="schedules with their next runs and last outcome")
    delete = actions.add_parser("delete", parents=[client], help="remove a schedule")
    delete.add_argument("name")


def schedule_command(args: argparse.Namespace) -> int:
    url = (args.url or os.environ.get("MLPLANE_URL") or "http://127.0.0.1:8080").rstrip("/")
    token = args.token or os.environ.get("MLPLANE_TOKEN")
    try:
        return asyncio.run(_run(url, token, args))
    except ClientError as exc:
        print_error(str(exc))
    except aiohttp.ClientError as exc:
        print_error(f"cannot reach mlplane at {url}: {exc}")
    return 2


async def _run(url: str, token: str | None, args: argparse.Namespace) -> int:
    base = f"{url}/v1/ingestion-schedules"
    async with client_session(token) as session:
        if args.schedule_command == "set":
            body = {"cron": args.cron, "timezone": args.timezone, "enabled": not args.disabled,
                    "ingestion": request_body(args)}
            answer = await _call(session, "PUT", f"{base}/{args.name}", body)
            for warning in answer.get("warnings", []):
                console.print(f"[yellow]warning: {escape(warning)}")
            next_runs = escape(", ".join(answer["next_runs"]))
            console.print(f"schedule [bold]{escape(answer['name'])}[/] saved; next runs: {next_runs}")
        elif args.schedule_command == "list":
            print(json.dumps((await _call(session, "GET", base))["schedules"], indent=2))
        else:
            await _call(session, "DELETE", f"{base}/{args.name}")
            console.print(f"schedule [bold]{escape(args.name)}[/] deleted")
    return 0


async def _call(session: aiohttp.ClientSession, method: str, url: str, body: Any = None) -> dict[str, Any]:
    async with session.request(method, url, json=body) as response:
        if response.status == 204:
            return {}
        try:
            answer = await response.json(content_type=None)
        except ValueError:  # an HTML page, a proxy's error: whatever answered, it is not mlplane
            raise ClientError(f"{url} answered {response.status} without mlplane's JSON: is --url an mlplane "
                              "daemon?") from None
        if response.status >= 400:
            error = answer.get("error", {}) if isinstance(answer, dict) else {}
            raise ClientError(f"rejected ({response.status}): {error.get('message', answer)}")
    return dict(answer)
