"""Sending hostile input to a daemon and judging its answers: a 4xx in the API's error shape naming what
to fix (or an allowed 2xx), strict JSON, an answer within a bound, and no traceback in its log."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
from yarl import URL

from tests.support.daemon import DaemonProcess
from tests.support.hostile_inputs import Case

REQUEST_TIMEOUT_S = 15.0


async def call(http: aiohttp.ClientSession, daemon: DaemonProcess, case: Case, request_id: str,
               content_type: str = "application/json") -> tuple[int, str]:
    body = case.body if isinstance(case.body, bytes | None) else json.dumps(case.body).encode()
    headers = {"X-Request-Id": request_id, **({"Content-Type": content_type} if body is not None else {})}
    async with asyncio.timeout(REQUEST_TIMEOUT_S), http.request(
            case.method, URL(daemon.url + case.path, encoded=True), data=body, headers=headers) as reply:
        return reply.status, (await reply.read()).decode(errors="replace")


def strict_json(text: str) -> Any:
    """JSON as RFC 8259 has it: NaN and Infinity, which Python writes and reads, are refused."""

    def refuse(constant: str) -> Any:
        raise ValueError(f"{constant} is not JSON")

    return json.loads(text, parse_constant=refuse)


def problem(status: int, text: str, case: Case) -> str | None:
    """What is wrong with an answer to bad input, or None: a 4xx naming `hint`, or an allowed 2xx."""
    try:
        body = strict_json(text)
    except ValueError:
        return f"{status} with a body that is not strict JSON: {text[:200]!r}"
    if status in case.ok:
        return None
    if not 400 <= status < 500:
        return f"status {status}: {text[:300]}"
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict) or not isinstance(error.get("code"), str) or not isinstance(
            error.get("message"), str):
        return f"{status} without the error shape: {text[:300]}"
    if not any(hint.lower() in error["message"].lower() for hint in case.hint.split("|")):
        return f"{status} message does not name {case.hint!r}: {error['message'][:300]!r}"
    return None


def crashes(lines: list[str]) -> list[tuple[str, str]]:
    """(request id or '', the last line of the traceback) for each traceback the daemon logged."""
    found = []
    for line in lines:
        if "Traceback" in line:
            try:
                record = json.loads(line)
            except ValueError:
                record = {"exception": line}
            found.append((str(record.get("request_id", "")), str(record.get("exception", "")).strip().splitlines()[-1]))
    return found


async def check_all(http: aiohttp.ClientSession, daemon: DaemonProcess, cases: list[Case],
                    content_type: str = "application/json") -> None:
    failures, logged = [], len(daemon.output)
    for n, case in enumerate(cases):
        where = f"{case.method} {case.path[:90]} {case.label}"
        try:
            status, text = await call(http, daemon, case, f"fuzz-{n}", content_type)
        except TimeoutError:
            failures.append(f"{where}: no answer in {REQUEST_TIMEOUT_S}s")
            continue
        if (found := problem(status, text, case)) is not None:
            failures.append(f"{where}: {found}")
    await log_caught_up(http, daemon)
    for request_id, last in crashes(daemon.output[logged:]):
        case = cases[int(request_id[5:])] if request_id.startswith("fuzz-") else None
        failures.append(f"traceback {last[:200]!r} after {case.label if case else 'no request'}")
    assert not failures, f"{len(failures)} problems in {len(cases)} answers:\n" + "\n".join(failures)


async def log_caught_up(http: aiohttp.ClientSession, daemon: DaemonProcess) -> None:
    """A thread reads the daemon's log: wait until it has read the line of a request made now."""
    start = len(daemon.output)
    marker = f"sync-{start}"
    async with http.get(f"{daemon.url}/healthz", headers={"X-Request-Id": marker}) as reply:
        assert reply.status == 200
    async with asyncio.timeout(5):
        while not any(marker in line for line in daemon.output[start:]):
            await asyncio.sleep(0.01)
