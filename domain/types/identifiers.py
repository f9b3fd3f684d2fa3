"""Validation of user-supplied names, so no user text reaches a path or a SQL statement raw."""

from __future__ import annotations

import re

from domain.types.errors import InvalidIdentifier

# Model names become object-store path segments: letters, digits, '-' and '_' only, no dots.
_MODEL_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,62}")
# Tables and columns are quoted as SQL identifiers; the pattern keeps them portable.
_SQL_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")
# Stream names become Redis key segments.
_STREAM = re.compile(r"[A-Za-z][A-Za-z0-9_.-]{0,62}")


def model_name(value: str, kind: str = "model name") -> str:
    """Return `value` if it is a valid model name, else raise InvalidIdentifier. Aliases, pipelines,
    rules and actions follow the same rule; `kind` says which one the caller got wrong."""
    return _check(value, _MODEL_NAME, kind, "letters, digits, '-', '_'; starts with a letter; max 63")


def stream_name(value: str) -> str:
    """Return `value` if it is a valid stream name, else raise InvalidIdentifier."""
    return _check(value, _STREAM, "stream name", "letters, digits, '_', '.', '-'; starts with a letter; max 63")


def sql_identifier(value: str, kind: str = "identifier") -> str:
    """Return `value` if it is a valid table or column name, else raise InvalidIdentifier."""
    return _check(value, _SQL_IDENTIFIER, kind, "letters, digits, '_'; starts with a letter or '_'; max 128")


def quote_identifier(value: str) -> str:
    """Double-quote an already validated identifier (ANSI SQL and DuckDB)."""
    return '"' + sql_identifier(value) + '"'


def artifact_key(key: str) -> str:
    """Return `key` if it is a relative slash-separated path with no empty, '.' or '..' segment.

    One rule for every artifact store, so a key valid in one profile is valid in all of them.
    """
    parts = key.split("/") if isinstance(key, str) else [""]
    if not key or any(p in ("", ".", "..") for p in parts):
        raise InvalidIdentifier(f"invalid artifact key {key!r}", {"key": str(key)[:200]})
    return key


def _check(value: str, pattern: re.Pattern[str], kind: str, rule: str) -> str:
    if not isinstance(value, str) or pattern.fullmatch(value) is None:
        raise InvalidIdentifier(
            f"invalid {kind} {value!r}: use {rule}",
            {"field": kind, "value": str(value)[:200], "rule": rule},
        )
    return value
