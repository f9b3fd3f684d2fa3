"""A seekable, read-only file over HTTP GETs, so pyarrow reads a URL like it reads a gs:// object.

Where the server answers Range requests (206), each read asks for just the bytes wanted and a
sequential run keeps reading the same response: a CSV partition streams its byte range, and a
Parquet reader fetches the footer and its own row groups, never the whole file. Where the server
ignores ranges (200 with the whole body), the reader still works, more slowly: it streams from the
start and skips forward, and re-opens only when asked to go back.
"""

from __future__ import annotations

import http.client
import io
import os
from typing import IO

from adapters.pyarrow_files.http_source import READ_ERRORS, Remote, get, probe, range_start, read_error
from adapters.pyarrow_files.url_guard import HostPolicy
from domain.types.errors import TransientError

READ_CHUNK = 8 << 20  # each ranged GET asks for about this much: few requests, bounded overfetch
SKIP_CHUNK = 1 << 20


def open_url(url: str, hosts: HostPolicy) -> IO[bytes]:
    """A buffered, seekable reader (the caller closes it); raises as `read_error` says. Every request
    it makes is checked against `hosts` (url_guard.py)."""
    try:
        remote = probe(url, hosts)
    except READ_ERRORS as exc:
        raise read_error(url, exc) from exc
    return io.BufferedReader(HttpRangeReader(url, remote, hosts), buffer_size=READ_CHUNK)


class HttpRangeReader(io.RawIOBase):
    def __init__(self, url: str, remote: Remote, hosts: HostPolicy) -> None:
        self._url, self._size, self._ranges, self._hosts = url, remote.size, remote.ranges, hosts
        self._pos = 0
        self._response: http.client.HTTPResponse | None = None
        self._at = 0  # offset of the open response's next byte
        self._end = 0  # offset just past the last byte the open response will send

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        base = {os.SEEK_SET: 0, os.SEEK_CUR: self._pos, os.SEEK_END: self._size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        want = min(len(buffer), self._size - self._pos)
        if want <= 0:
            return 0
        try:
            response = self._positioned(want)
            got = response.readinto(memoryview(buffer)[:min(want, self._end - self._at)])
        except READ_ERRORS as exc:
            self._drop()
            raise read_error(self._url, exc) from exc
        if got == 0:  # the server closed before the bytes it promised
            self._drop()
            raise TransientError(f"{self._url}: the connection ended at byte {self._pos} of {self._size}",
                                 {"source": self._url})
        self._pos += got
        self._at += got
        return got

    def _positioned(self, want: int) -> http.client.HTTPResponse:
        """A response whose next byte is the one at the read position."""
        if self._response is not None and self._at == self._pos < self._end:
            return self._response
        if self._ranges:
            self._drop()
            end = min(self._size, self._pos + max(want, READ_CHUNK))
            response = get(self._url, self._hosts, self._pos, end - 1)
            if range_start(response) == self._pos:
                self._response, self._at, self._end = response, self._pos, end
                return response
            self._ranges = False  # the server sent the whole body after all: stream it from the start
            self._response, self._at, self._end = response, 0, self._size
        elif self._response is None or self._at > self._pos:
            self._drop()
            self._response, self._at, self._end = get(self._url, self._hosts), 0, self._size
        while self._at < self._pos:  # no ranges: read forward to the position, keeping nothing
            skipped = len(self._response.read(min(SKIP_CHUNK, self._pos - self._at)))
            if skipped == 0:
                raise http.client.IncompleteRead(b"", self._pos - self._at)
            self._at += skipped
        return self._response

    def _drop(self) -> None:
        if self._response is not None:
            self._response.close()
            self._response = None

    def close(self) -> None:
        self._drop()
        super().close()
