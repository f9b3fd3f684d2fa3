"""Paginated listings with prefix, delimiter and offsets.

Page tokens are opaque to clients; ours encode the key of the last entry
returned. When a page ends on a collapsed prefix the token also names that
prefix, so the next page skips every object under it (they sort contiguously).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import bad_request
from .model import ObjectVersion

DEFAULT_PAGE_SIZE = 1000


def parse_bool(value: str | None) -> bool:
    """Booleans arrive as ``true`` or Python's ``True``."""
    return (value or "").strip().lower() in ("true", "1", "yes")


def page_size(query: Mapping[str, str]) -> int:
    raw = query.get("maxResults")
    try:
        size = int(raw) if raw else DEFAULT_PAGE_SIZE
    except ValueError:
        raise bad_request(f"Invalid maxResults: {raw}") from None
    return max(1, min(size, DEFAULT_PAGE_SIZE))


def encode_token(payload: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode("utf-8")).decode("ascii")


def decode_token(token: str | None) -> Any:
    if not token:
        return None
    try:
        return json.loads(base64.urlsafe_b64decode(token.encode("ascii")))
    except ValueError:
        raise bad_request("Invalid page token.") from None


@dataclass
class ObjectPage:
    items: list[ObjectVersion] = field(default_factory=list)
    prefixes: list[str] = field(default_factory=list)
    next_token: str | None = None


@dataclass(frozen=True)
class ListSpec:
    prefix: str = ""
    delimiter: str = ""
    start_offset: str = ""
    end_offset: str = ""

    @classmethod
    def from_query(cls, query: Mapping[str, str]) -> ListSpec:
        return cls(query.get("prefix", ""), query.get("delimiter", ""),
                   query.get("startOffset", ""), query.get("endOffset", ""))

    def selects(self, name: str) -> bool:
        return (name.startswith(self.prefix)
                and (not self.start_offset or name >= self.start_offset)
                and (not self.end_offset or name < self.end_offset))

    def collapse(self, name: str) -> str | None:
        """The prefix ``name`` collapses into under the delimiter, if any."""
        if not self.delimiter:
            return None
        rest = name[len(self.prefix):]
        cut = rest.find(self.delimiter)
        return None if cut < 0 else self.prefix + rest[: cut + len(self.delimiter)]


def _entries(objects: list[ObjectVersion], spec: ListSpec,
             token: Any) -> Iterator[tuple[ObjectVersion, str | None]]:
    """Yield (object, collapsed prefix or None) after ``token``, prefixes once."""
    after = (token[0], token[1]) if token else None
    skip_prefix = token[2] if token else None
    last_prefix = None
    for obj in objects:
        if after is not None and (obj.name, obj.generation) <= after:
            continue
        if skip_prefix and obj.name.startswith(skip_prefix):
            continue
        if not spec.selects(obj.name):
            continue
        prefix = spec.collapse(obj.name)
        if prefix is not None and prefix == last_prefix:
            continue
        last_prefix = prefix
        yield obj, prefix


def list_page(objects: list[ObjectVersion], spec: ListSpec, size: int,
              token: str | None) -> ObjectPage:
    """One page of ``objects`` (sorted by name, then generation)."""
    page = ObjectPage()
    last: tuple[ObjectVersion, str | None] | None = None
    for obj, prefix in _entries(objects, spec, decode_token(token)):
        if len(page.items) + len(page.prefixes) == size and last is not None:
            # One more entry exists: hand out a token that resumes after ``last``.
            last_obj, last_prefix = last
            page.next_token = encode_token([last_obj.name, last_obj.generation, last_prefix])
            break
        if prefix is None:
            page.items.append(obj)
        else:
            page.prefixes.append(prefix)
        last = (obj, prefix)
    return page


def page_of_names(names: list[str], size: int, token: str | None) -> tuple[list[str], str | None]:
    """Paginate a sorted list of names (buckets)."""
    after = decode_token(token)
    remaining = [n for n in names if after is None or n > after]
    page = remaining[:size]
    more = len(remaining) > size
    return page, (encode_token(page[-1]) if more else None)
