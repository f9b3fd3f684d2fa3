"""`mlplane ingest` and `mlplane stream replay` given bad arguments, run as the user runs them (subprocesses).

Each must exit non-zero with a message naming the problem on one line (argparse's usage lines may come
before it) and no traceback. What can be checked here is checked before any daemon is contacted; what
only a daemon can judge meets a port nobody listens on ("cannot reach"), or a server that is not mlplane.
"""

from __future__ import annotations

import asyncio
import decimal
import json
import os
import socket
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import NamedTuple

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from aiohttp import web

from tests.support.http_fixtures import serving

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


class Run(NamedTuple):
    code: int
    stdout: str
    stderr: str


@pytest.fixture
def files(tmp_path: Path) -> Path:
    (tmp_path / "ok.csv").write_text("entity_id,f0\ne1,0.5\n")
    (tmp_path / "my file \u00e9.csv").write_text("entity_id,f0\ne1,0.5\n")
    (tmp_path / "garbage.csv").write_bytes(b"\xff\xfe\x00")
    (tmp_path / "a directory").mkdir()
    return tmp_path


@pytest.fixture
def closed_url() -> Iterator[str]:
    """A port that is bound but never listens: connections are refused, and nothing else can take it."""
    with socket.socket() as bound:
        bound.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{bound.getsockname()[1]}"


async def mlplane(cwd: Path, *args: str) -> Run:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLPLANE_")}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "entrypoints.cli", *args, cwd=cwd, env={**env, "PYTHONPATH": str(ROOT)},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    return Run(process.returncode or 0, out.decode(), err.decode())


def assert_refused(run: Run, hint: str) -> None:
    assert run.code != 0, run
    assert "Traceback" not in run.stderr + run.stdout, run.stderr
    assert hint in run.stderr.strip().splitlines()[-1], run.stderr


INGEST = ["ingest", "ok.csv", "--table", "t"]
REPLAY = ["stream", "replay", "ok.csv"]
REFUSED_BEFORE_ANY_DAEMON = [
    (["ingest", "ok.csv", "--table", "bad table"], "invalid table 'bad table'"),
    ([*INGEST, "--partitions", "0"], "--partitions: '0' is not between 1 and 256"),
    ([*INGEST, "--partitions", "-1"], "--partitions: '-1' is not between 1 and 256"),
    ([*INGEST, "--max-reject-ratio", "nan"], "--max-reject-ratio: 'nan' is not a finite number"),
    ([*INGEST, "--max-reject-ratio", "1e400"], "--max-reject-ratio: '1e400' is not a finite number"),
    ([*INGEST, "--max-reject-ratio", "2"], "--max-reject-ratio: '2' is not between 0 and 1"),
    ([*INGEST, "--keys", "id,a b"], "invalid column 'a b'"),
    ([*REPLAY, "--rate", "-1"], "--rate: '-1' is negative"),
    ([*REPLAY, "--rate", "1e400"], "--rate: '1e400' is not a finite number"),
    ([*REPLAY, "--rate", "nan"], "--rate: 'nan' is not a finite number"),
    ([*REPLAY, "--stream", "bad/name"], "invalid stream name 'bad/name'"),
    (["stream", "replay", "missing.csv"], "cannot replay missing.csv"),
    (["stream", "replay", "a directory"], "cannot replay a directory"),
    (["stream", "replay", "garbage.csv"], "cannot replay garbage.csv"),
    (["stream", "replay", "my file \u00e9.csv"], "name the stream with --stream"),
]


@pytest.mark.parametrize(("args", "hint"), REFUSED_BEFORE_ANY_DAEMON, ids=[" ".join(a) for a, _ in
                                                                          REFUSED_BEFORE_ANY_DAEMON])
async def test_bad_arguments_are_named_before_any_daemon_is_contacted(files, closed_url, args, hint) -> None:
    run = await mlplane(files, *args, "--url", closed_url)
    assert_refused(run, hint)
    assert "cannot reach" not in run.stderr


async def test_an_unreadable_file_is_named(files, closed_url) -> None:
    # A socket cannot be opened as a file, by root either (a mode of 0 would not stop root).
    with socket.socket(socket.AF_UNIX) as listening:
        listening.bind(str(files / "socket.csv"))
        run = await mlplane(files, "stream", "replay", "socket.csv", "--url", closed_url)
    assert_refused(run, "cannot replay socket.csv")


@pytest.mark.parametrize("args", [INGEST, ["ingest", "missing.csv", "--table", "t"], [*REPLAY, "--rate", "0"],
                                  ["ingest-schedule", "list"]], ids=" ".join)
async def test_a_daemon_that_does_not_answer_is_one_line_saying_so(files, closed_url, args) -> None:
    run = await mlplane(files, *args, "--url", closed_url)
    assert_refused(run, f"cannot reach mlplane at {closed_url}")
    assert len(run.stderr.strip().splitlines()) == 1, run.stderr


@pytest.fixture
async def server() -> AsyncIterator[tuple[str, list[object]]]:
    """A web server that is not mlplane (HTML 404s), except that it takes stream events: (URL, bodies)."""
    bodies: list[object] = []

    async def events(request: web.Request) -> web.Response:
        bodies.append(await request.json())
        return web.json_response({"accepted": 1}, status=202)

    app = web.Application()
    app.router.add_post("/v1/streams/accepting/events", events)
    async with serving(app) as url:
        yield url, bodies


async def test_a_url_that_is_not_mlplane_is_named_not_a_traceback(files, server) -> None:
    url, _ = server
    assert_refused(await mlplane(files, *INGEST, "--url", url), "without mlplane's JSON")
    assert_refused(await mlplane(files, *REPLAY, "--url", url), "is --url an mlplane daemon?")


async def test_replay_sends_decimals_and_bytes_a_json_encoder_refuses(files, server) -> None:
    url, bodies = server
    pq.write_table(pa.table({"entity_id": ["e1"], "amount": pa.array([decimal.Decimal("1.5")], pa.decimal128(5, 1)),
                             "raw": [b"\xffab"]}), files / "odd.parquet")
    run = await mlplane(files, "stream", "replay", "odd.parquet", "--stream", "accepting", "--url", url)
    assert run.code == 0 and "Traceback" not in run.stderr, run.stderr
    assert json.loads(run.stdout)["events"] == 1
    assert bodies == [{"events": [{"entity_id": "e1", "amount": 1.5, "raw": "\ufffdab"}]}]
