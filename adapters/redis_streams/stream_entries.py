"""Entries as XREADGROUP and XAUTOCLAIM return them, read as text; stream ids compared as numbers."""

from __future__ import annotations

from typing import Any

from adapters.redis_streams.keys import text

Read = tuple[str, str, str]  # entry id, data, why data is unreadable ("" when it reads)


def read_entries(items: Any) -> list[Read]:
    """An entry trimmed while pending comes back empty and is skipped."""
    if items and isinstance(items[0][0], bytes):  # the usual client: one decode per value, nothing else
        try:
            return [(i.decode(), f[b"data"].decode() if b"data" in f else "", "") for i, f in items if f]
        except UnicodeDecodeError:  # some client wrote bytes that are not text: decode entry by entry
            pass
    return [(text(i), *data_text(f)) for i, f in items or [] if f]


def data_text(fields: Any) -> tuple[str, str]:
    """The `data` field as text (no field: "", which the parser dead-letters), and why it cannot be
    read. Bytes that are not UTF-8 must not fail the read: the entry would stay pending and stop
    the pipeline at every retry. They are kept escaped (\\xff) for the dead letter instead."""
    value = fields.get(b"data", fields.get("data")) if fields else None
    if not isinstance(value, bytes):
        return ("" if value is None else value), ""
    try:
        return value.decode(), ""
    except UnicodeDecodeError as exc:
        return value.decode(errors="backslashreplace"), f"data is not UTF-8 text (byte {exc.start}: {exc.reason})"


def id_key(entry_id: str) -> tuple[int, int]:
    ms, _, seq = entry_id.partition("-")
    return int(ms), int(seq or 0)


def next_id(entry_id: str) -> str:
    ms, seq = id_key(entry_id)
    return f"{ms}-{seq + 1}"
