"""The CLI prints the daemon's words as they are, run as the user runs it against a real daemon.

rich reads `[...]` as markup: a failure naming a file `[bold]/cols ['a', 'b'] [red]x.csv` lost its
`[bold]` and `[red]`, and a glob `[ab]*.csv` in a warning lost `[ab]`. Both must reach the terminal
unchanged.
"""

from __future__ import annotations

import asyncio
import glob
import os
import sys
from pathlib import Path

import pytest

from tests.support.daemon import DaemonProcess, module_daemon

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
BRACKETED = "[bold]/cols ['a', 'b'] [red]x.csv"  # a folder and a file in it

daemon = module_daemon("markup", {"MLPLANE_SEED_DEMO": "false"})


async def mlplane(daemon: DaemonProcess, *args: str) -> tuple[int, str]:
    """Exit code and stderr (where rich prints) of one CLI run; wide columns, so no line is wrapped."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLPLANE_")}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "entrypoints.cli", *args, "--url", daemon.url, cwd=ROOT,
        env={**env, "COLUMNS": "2000"}, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    _out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    return process.returncode or 0, err.decode()


async def test_a_failure_message_holding_brackets_prints_unchanged(daemon: DaemonProcess, tmp_path: Path) -> None:
    source = tmp_path / BRACKETED
    source.parent.mkdir()
    source.write_text('id,name\n1,a\n2,"never closed\n3,c\n4,d\n')  # fails when staged, after the 202
    code, err = await mlplane(daemon, "ingest", glob.escape(str(source)), "--table", "bracketed", "--follow")
    assert code == 1, err
    failure = next(line for line in err.splitlines() if "ingestion failed:" in line)
    assert BRACKETED in failure and "is never closed" in failure, err


async def test_a_warning_naming_a_glob_prints_unchanged(daemon: DaemonProcess, tmp_path: Path) -> None:
    pattern = str(tmp_path / "landing" / "[ab]*.csv")  # matches no file yet: a warning, the schedule is kept
    code, err = await mlplane(daemon, "ingest-schedule", "set", "landing", pattern, "--table", "landing",
                              "--cron", "0 * * * *")
    assert code == 0, err
    warning = next(line for line in err.splitlines() if "warning:" in line)
    assert pattern in warning, err
