"""Resumable upload sessions.

A session keeps the metadata and preconditions given at initiation and the
bytes received so far. Chunks may overlap what is stored (a client resends
after a lost reply); only the new tail is appended. Sessions live in memory and
do not survive a restart.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from .errors import bad_request
from .model import ObjectVersion
from .preconditions import Preconditions

_RANGE = re.compile(r"^bytes\s+(?:(\d+)-(\d+)|\*)/(\d+|\*)$")


@dataclass
class UploadSession:
    id: str
    bucket: str
    name: str
    props: dict[str, Any]
    pre: Preconditions
    declared: dict[str, str]
    buffer: bytearray = field(default_factory=bytearray)
    total: int | None = None
    result: ObjectVersion | None = None

    @property
    def persisted(self) -> int:
        return len(self.buffer)

    def accept(self, content_range: str | None, data: bytes) -> bool:
        """Store a chunk; return True when the object is complete."""
        start, total = _parse_content_range(content_range, len(data))
        if total is not None:
            if self.total is not None and total != self.total:
                raise bad_request("Content-Range total changed during upload.")
            self.total = total
        if start is not None and data:
            if start > self.persisted:
                raise bad_request(f"Chunk starts at {start} but only {self.persisted} bytes "
                                  "have been persisted.")
            self.buffer += data[self.persisted - start :]
        if self.total is not None and self.persisted > self.total:
            raise bad_request("Received more bytes than the declared total.")
        return self.total is not None and self.persisted == self.total


def _parse_content_range(header: str | None, length: int) -> tuple[int | None, int | None]:
    """(start byte or None for a status query, total or None when unknown)."""
    if not header:  # a single-request resumable upload: the body is the object
        return 0, length
    match = _RANGE.match(header.strip())
    if match is None:
        raise bad_request(f"Invalid Content-Range: {header}")
    first, last, total = match.groups()
    total_value = None if total == "*" else int(total)
    if first is None:
        return None, total_value
    if int(last) - int(first) + 1 != length:
        raise bad_request("Content-Range does not match the request body length.")
    return int(first), total_value


class Sessions:
    def __init__(self) -> None:
        self._sessions: dict[str, UploadSession] = {}

    def open(self, bucket: str, name: str, props: dict[str, Any], pre: Preconditions,
             declared: dict[str, str]) -> UploadSession:
        session = UploadSession(uuid.uuid4().hex, bucket, name, props, pre, declared)
        self._sessions[session.id] = session
        return session

    def get(self, upload_id: str) -> UploadSession | None:
        return self._sessions.get(upload_id)

    def cancel(self, upload_id: str) -> bool:
        return self._sessions.pop(upload_id, None) is not None
