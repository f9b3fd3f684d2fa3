"""`mlplane ingest --follow` on a cancelled ingestion: a cancel event carries no reason (the daemon sends
`{}`), so the view says `ingestion cancelled` with no dangling colon; a reason, when there is one, follows
it unchanged. Rendered on a real rich console, as in test_cli_markup_events.py."""

from __future__ import annotations

import io
from typing import Any

import pytest
from rich.console import Console
from rich.progress import Progress

from entrypoints import client, client_ingest

pytestmark = pytest.mark.unit


def render(event: dict[str, Any]) -> tuple[int | None, str]:
    out = io.StringIO()
    with Progress(console=Console(file=out, width=1000, color_system=None)) as progress:
        outcome = client_ingest._show(progress, {}, event)
    return outcome, out.getvalue()


def test_a_cancelled_ingestion_prints_no_colon_without_a_reason() -> None:
    outcome, text = render({"type": "cancelled", "data": {}})  # what a cancel sends
    assert outcome == client.EXIT_FAILED and "ingestion cancelled" in text and "cancelled:" not in text


def test_a_reason_when_there_is_one_follows_unchanged() -> None:
    _outcome, text = render({"type": "cancelled", "data": {"message": "by [ana]"}})
    assert "ingestion cancelled: by [ana]" in text
    _outcome, text = render({"type": "failed", "data": {"message": ""}})
    assert "ingestion failed" in text and "failed:" not in text
