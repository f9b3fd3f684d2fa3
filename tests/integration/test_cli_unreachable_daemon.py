"""Every client command facing a daemon that does not answer: one line naming the URL, one exit code.

Run as the user runs them (subprocesses) against a port that is bound but never listens. A connection
error is an OSError, so a command that read its file and called the daemon under one `except OSError`
blamed the file; and the exit code must not depend on which command it was (2: the work was not done).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.integration.test_cli_hostile_arguments import closed_url, mlplane  # noqa: F401 (closed_url: fixture)

pytestmark = pytest.mark.integration

COMMANDS = {
    "train": ["train", "spec.json"],
    "train --follow": ["train", "spec.json", "--follow"],
    "ingest": ["ingest", "rows.csv", "--table", "t"],
    "ingest-schedule list": ["ingest-schedule", "list"],
    "stream replay": ["stream", "replay", "rows.csv"],
}


@pytest.fixture
def files(tmp_path: Path) -> Path:
    (tmp_path / "spec.json").write_text(json.dumps({"model_name": "m", "algorithm": "decision_tree"}))
    (tmp_path / "rows.csv").write_text("entity_id,f0\ne1,0.5\n")
    return tmp_path


@pytest.mark.parametrize("name", COMMANDS)
async def test_an_unreachable_daemon_is_named_with_exit_code_2(files: Path, closed_url: str, name: str) -> None:  # noqa: F811
    run = await mlplane(files, *COMMANDS[name], "--url", closed_url)
    lines = run.stderr.strip().splitlines()
    assert run.code == 2, run
    assert len(lines) == 1 and lines[0].startswith(f"cannot reach mlplane at {closed_url}: "), run.stderr
    assert "Traceback" not in run.stderr and "spec" not in run.stderr


async def test_a_spec_that_cannot_be_read_is_still_blamed_on_the_file(files: Path, closed_url: str) -> None:  # noqa: F811
    (files / "latin1.json").write_bytes(b'{"model_name": "\xe9"}')  # not UTF-8: was a traceback
    for spec in ("missing.json", "latin1.json"):
        run = await mlplane(files, "train", spec, "--url", closed_url)
        assert run.code == 2, run
        assert run.stderr.strip().splitlines() == [run.stderr.strip()], run.stderr
        assert run.stderr.startswith(f"cannot read the spec {spec}: "), run.stderr
