"""http(s) sources: one probe that learns a URL's size and whether it serves byte ranges, and what an
HTTP failure means for whoever asked.

The standard library's urllib, not a new dependency: it follows redirects, honours the proxy
environment variables, and its timeouts bound every connect and every read, so a silent server
never hangs a submit or a partition. `Accept-Encoding: identity` keeps byte offsets on the file's
own bytes (a compressed transfer would make byte ranges meaningless).

At submit time every failure is the caller's to fix: InvalidSpec naming the URL (a 422). While a
partition reads, 5xx, 429, timeouts and dropped connections raise TransientError so the queue
retries the partition; a URL gone since the plan raises FileNotFoundError (the source vanished).
"""

from __future__ import annotations

import errno
import http.client
import re
import urllib.request
from dataclasses import dataclass
from urllib.error import HTTPError, URLError

from adapters.pyarrow_files.url_guard import HostPolicy, opener, url_host
from domain.types.errors import InvalidSpec, PermanentError, TransientError

PROBE_TIMEOUT_S = 15.0  # submit time: a caller is waiting for the 202
READ_TIMEOUT_S = 60.0  # per connect / per read while a partition streams
_RETRYABLE = frozenset({408, 425, 429})
_CONTENT_RANGE = re.compile(r"bytes\s+(?:(\d+)-\d+|\*)/(\d+|\*)")
_HINTS = {401: "the daemon sends no credentials: use a public or pre-signed URL",
          403: "the daemon sends no credentials: use a public or pre-signed URL",
          404: "check the address", 410: "the file was removed; check the address"}


def is_http(uri: str) -> bool:
    return uri.startswith(("http://", "https://"))


@dataclass(frozen=True)
class Remote:
    """What the server told us about the file: its size, and whether it answers Range requests with 206."""

    size: int
    ranges: bool


def get(url: str, hosts: HostPolicy, start: int | None = None, end: int | None = None,
        timeout: float = READ_TIMEOUT_S) -> http.client.HTTPResponse:
    """A GET of bytes [start, end] (both inclusive; no Range header when start is None). Hosts the
    policy refuses are refused at the first hop and at every redirect, and each connection goes to the
    address that was checked (url_guard.py)."""
    headers = {"User-Agent": "mlplane", "Accept-Encoding": "identity"}
    if start is not None:
        headers["Range"] = f"bytes={start}-{'' if end is None else end}"
    url_host(url)  # a malformed URL is the caller's to fix, before urllib raises a bare ValueError
    request = urllib.request.Request(url, headers=headers)
    response: http.client.HTTPResponse = opener(hosts).open(request, timeout=timeout)
    return response


def range_start(response: http.client.HTTPResponse) -> int | None:
    """The first byte a 206 answer holds (None: the server ignored the Range and sent the whole file)."""
    match = _CONTENT_RANGE.match(response.headers.get("Content-Range", "")) if response.status == 206 else None
    return int(match.group(1)) if match and match.group(1) else None


def probe(url: str, hosts: HostPolicy, timeout: float = READ_TIMEOUT_S) -> Remote:
    """Size and range support from a one-byte ranged GET (HEAD is refused by some signed URLs)."""
    try:
        with get(url, hosts, 0, 0, timeout) as response:
            total = _total(response.headers.get("Content-Range", ""))
            if response.status == 206 and total is not None:
                return Remote(total, True)
            length = response.headers.get("Content-Length")
            if response.status == 206 or length is None:
                raise InvalidSpec(f"{url}: the server tells neither the file's size nor serves byte ranges; "
                                  "download the file and ingest the copy", {"field": "sources", "source": url})
            return Remote(int(length), False)  # closing now drops the body unread
    except HTTPError as exc:
        if exc.code == 416:  # an empty file has no byte 0
            return Remote(_total(exc.headers.get("Content-Range", "")) or 0, True)
        raise


def _total(content_range: str) -> int | None:
    match = _CONTENT_RANGE.match(content_range)
    return int(match.group(2)) if match and match.group(2) != "*" else None


def submit_error(url: str, exc: Exception) -> InvalidSpec:
    """Why a source URL cannot be planned, as a 4xx naming the URL and what to fix."""
    if isinstance(exc, HTTPError):
        hint = _HINTS.get(exc.code, "the server refused the request" if exc.code < 500
                          else "the server failed; try again when it is up")
        return InvalidSpec(f"{url} answered HTTP {exc.code} {exc.reason}: {hint}",
                           {"field": "sources", "source": url, "status": exc.code})
    reason = exc.reason if isinstance(exc, URLError) else exc
    return InvalidSpec(f"{url} is not reachable from the daemon ({reason}); check the host and port, and that "
                       f"it answers within {PROBE_TIMEOUT_S:.0f}s", {"field": "sources", "source": url})


def read_error(url: str, exc: Exception) -> Exception:
    """An error while reading: retryable ones become TransientError (the queue tries the partition again)."""
    if isinstance(exc, HTTPError):
        if exc.code in (404, 410):
            return FileNotFoundError(errno.ENOENT, f"no longer served (HTTP {exc.code})", url)
        if exc.code in _RETRYABLE or exc.code >= 500:
            return TransientError(f"{url} answered HTTP {exc.code} {exc.reason}", {"source": url})
        return PermanentError(f"{url} answered HTTP {exc.code} {exc.reason}", {"source": url})
    reason = exc.reason if isinstance(exc, URLError) else exc
    return TransientError(f"{url}: {reason or type(exc).__name__}", {"source": url})


READ_ERRORS = (OSError, http.client.HTTPException)  # URLError, HTTPError and timeouts are OSErrors
