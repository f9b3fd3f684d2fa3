"""Reading a config that arrived as JSON (pipelines, their rules and actions).

Every problem is an InvalidSpec naming the field and what it takes, never a Python error such as
KeyError or OverflowError: JSON can hold any shape, a 400-digit integer or (from Python's own
encoder) NaN, and a setting that is misspelt must be refused, not silently dropped. Range checks
stay in the dataclasses; these helpers only make sure the values reaching them have the right type.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from typing import Any

from domain.types.errors import InvalidSpec


def mapping(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise InvalidSpec(f"{where} must be a JSON object, got {kind(value)}", {"field": where})
    return value


def known_keys(raw: Mapping[str, Any], allowed: Collection[str], where: str) -> None:
    unknown = sorted(str(k) for k in raw if k not in allowed)
    if unknown:
        raise InvalidSpec(f"{where}: unknown field(s) {', '.join(unknown)}; known: {', '.join(sorted(allowed))}",
                          {"field": where, "unknown": unknown})


def required(raw: Mapping[str, Any], key: str, where: str) -> Any:
    if key not in raw:
        raise InvalidSpec(f"{where}: missing field {key!r}", {"field": f"{where}.{key}"})
    return raw[key]


def array(raw: Mapping[str, Any], key: str, where: str) -> list[Any]:
    """raw[key] as a list; absent or null reads as empty."""
    value = raw.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise InvalidSpec(f"{where}.{key} must be a list, got {kind(value)}", {"field": f"{where}.{key}"})
    return value


def integer(raw: Mapping[str, Any], key: str, default: int, where: str) -> int:
    value = raw.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int):  # 1.5 must not become 1, nor true 1
        raise InvalidSpec(f"{where}.{key} must be an integer, got {kind(value)}", {"field": f"{where}.{key}"})
    return value


def number(raw: Mapping[str, Any], key: str, default: float | None, where: str) -> float | None:
    """A finite number, or None when absent or null (where `default` is None)."""
    value = raw.get(key, default)
    if value is None and default is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not finite(value):
        raise InvalidSpec(f"{where}.{key} must be a finite number, got {kind(value)}", {"field": f"{where}.{key}"})
    return float(value)


def finite(value: int | float) -> bool:
    """False for NaN, the infinities and integers too large for a float."""
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


def kind(value: Any) -> str:
    """The value as an error message shows it: its JSON type, and the value itself when short."""
    if value is None:
        return "null"
    if isinstance(value, Mapping | list | tuple):
        return "an object" if isinstance(value, Mapping) else "a list"
    label = "a boolean" if isinstance(value, bool) else "a string" if isinstance(value, str) else "a number"
    text = repr(value)
    return f"{label} {text if len(text) <= 40 else text[:37] + '...'}"
