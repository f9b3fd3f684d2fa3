"""Argument types for the `mlplane` command line: a bad value is a one-line usage error naming the option.

Checked before anything contacts the daemon, so the message names the mistake even when no daemon
answers, and a value Python reads but the command cannot use (`--rate 1e400` is infinity, `nan`
compares false with every bound) never reaches a calculation that would raise or run unbounded.
"""

from __future__ import annotations

import argparse
import functools
import math
from collections.abc import Callable

from domain.types.errors import InvalidIdentifier
from domain.types.identifiers import sql_identifier, stream_name
from domain.types.ingestion import MAX_PARTITIONS


def rate(text: str) -> float:
    """Events per second: a finite number >= 0 (0: as fast as the daemon takes them)."""
    value = _finite(text, "a number of events per second")
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is negative: give events per second, or 0 for as fast as possible")
    return value


def ratio(text: str) -> float:
    """A share of rows between 0 and 1."""
    value = _finite(text, "a share of rows")
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"{text!r} is not between 0 and 1")
    return value


def partitions(text: str) -> int:
    """A partition count: 1..MAX_PARTITIONS (leave the option out for 'auto')."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 1 <= value <= MAX_PARTITIONS:
        raise argparse.ArgumentTypeError(f"{text!r} is not between 1 and {MAX_PARTITIONS} (leave it out for 'auto')")
    return value


def table(text: str) -> str:
    return _checked(lambda: sql_identifier(text, "table"))


def columns(text: str) -> str:
    """Comma-separated column names, each checked (the text is passed on as given)."""
    for column in (c for c in text.split(",") if c):
        _checked(functools.partial(sql_identifier, column, "column"))
    return text


def stream(text: str) -> str:
    return _checked(lambda: stream_name(text))


def _finite(text: str, what: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number: give {what}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number: give {what}")
    return value


def _checked(check: Callable[[], str]) -> str:
    try:
        return check()
    except InvalidIdentifier as exc:
        raise argparse.ArgumentTypeError(exc.message) from None
