"""The `--follow` views of `mlplane train` and `mlplane ingest` print the daemon's event text as it is.

A real rich console renders each event: a message holding `[...]` (a column list, a glob, a stray `[/]`)
must neither lose its brackets to markup nor make rich raise, which ended the client with a traceback.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest
from rich.console import Console
from rich.progress import Progress

from entrypoints import client, client_ingest

MESSAGES = ["columns ['a', 'b'] differ from the table's", "a [bold]x[/bold] and [red]y", "a stray [/] closing tag"]


def render(show: Callable[[Progress, Any, dict[str, Any]], int | None], bar: Any,
           event: dict[str, Any]) -> tuple[int | None, str]:
    out = io.StringIO()
    with Progress(console=Console(file=out, width=1000, color_system=None)) as progress:
        outcome = show(progress, progress.add_task("queued", total=1.0) if bar is None else bar, event)
    return outcome, out.getvalue()


@pytest.mark.parametrize("message", MESSAGES)
def test_a_failed_training_job_prints_its_message_unchanged(message: str) -> None:
    outcome, text = render(client._show, None, {"type": "failed", "data": {"message": message}})
    assert outcome == client.EXIT_FAILED and f"job failed: {message}" in text


@pytest.mark.parametrize("message", MESSAGES)
def test_a_failed_ingestion_prints_its_message_unchanged(message: str) -> None:
    outcome, text = render(client_ingest._show, {}, {"type": "failed", "data": {"message": message}})
    assert outcome == client.EXIT_FAILED and f"ingestion failed: {message}" in text


def test_names_the_daemon_reports_print_unchanged() -> None:
    event = {"type": "completed", "data": {"model_name": "m", "version": 1}}
    event["data"]["model_name"] = "[bold]m"  # names are checked by the daemon; the view must not rely on it
    _outcome, text = render(client._show, None, event)
    assert "model [bold]m version 1 is ready" in text
    completed = {"table": "[t]", "rows_loaded": 1, "rows_read": 1, "rows_rejected": 0, "null_rows_dropped": 0,
                 "duplicates_dropped": 0, "rejects_files": ["/data/[x]/rejects.csv"]}
    _outcome, text = render(client_ingest._show, {}, {"type": "completed", "data": completed})
    assert "table [t]: 1 rows loaded" in text and "rejects: /data/[x]/rejects.csv" in text


def test_a_cancelled_job_prints_cancelled_with_a_reason_only_when_there_is_one() -> None:
    outcome, text = render(client._show, None, {"type": "cancelled", "data": {}})  # what cancels send
    assert outcome == client.EXIT_FAILED and "job cancelled" in text and "cancelled:" not in text
    _outcome, text = render(client._show, None, {"type": "cancelled", "data": {"message": "by ana"}})
    assert "job cancelled: by ana" in text
