"""Object downloads (``alt=media``), with single-range requests answered by 206.

The client checks the full-object ``X-Goog-Hash`` only on 200 replies, so a
ranged read must be 206 with ``Content-Range``, never a 200 with partial bytes.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.utils import format_datetime

from aiohttp import web

from .context import STORE, Params, int_param
from .errors import GcsError
from .model import ObjectVersion
from .preconditions import Preconditions

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def _unsatisfiable(size: int) -> GcsError:
    return GcsError(416, "The requested range cannot be satisfied.",
                    headers={"Content-Range": f"bytes */{size}"})


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """Inclusive (start, end) for a ``Range`` header; None means the whole object."""
    match = _RANGE.match((header or "").strip())
    if match is None or match.groups() == ("", ""):
        return None  # absent or not a single byte range: HTTP says serve everything
    first, last = match.groups()
    if first == "":
        suffix = int(last)
        if suffix == 0 or size == 0:
            raise _unsatisfiable(size)
        return max(0, size - suffix), size - 1
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size or start > end:
        raise _unsatisfiable(size)
    return start, end


def _http_date(rfc3339: str) -> str:
    moment = datetime.strptime(rfc3339, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    return format_datetime(moment, usegmt=True)


def media_headers(obj: ObjectVersion) -> dict[str, str]:
    headers = {
        "Content-Type": obj.content_type,
        "X-Goog-Hash": f"crc32c={obj.crc32c},md5={obj.md5}",
        "X-Goog-Generation": str(obj.generation),
        "X-Goog-Metageneration": str(obj.metageneration),
        "X-Goog-Storage-Class": str(obj.props.get("storageClass") or "STANDARD"),
        "X-Goog-Stored-Content-Length": str(obj.size),
        "X-Goog-Stored-Content-Encoding": str(obj.props.get("contentEncoding") or "identity"),
        "ETag": f'"{obj.md5}"',
        "Accept-Ranges": "bytes",
        "Last-Modified": _http_date(obj.updated),
    }
    optional = {"Cache-Control": "cacheControl", "Content-Language": "contentLanguage",
                "Content-Disposition": "contentDisposition", "Content-Encoding": "contentEncoding"}
    for header, prop in optional.items():
        if obj.props.get(prop):
            headers[header] = str(obj.props[prop])
    return headers


async def serve_media(request: web.Request, p: Params) -> web.Response:
    store = request.app[STORE]
    obj = store.get_object(p["bucket"], p["object"], int_param(request, "generation"))
    Preconditions.from_query(request.query).check(obj, write=False)
    headers = media_headers(obj)
    span = byte_range(request.headers.get("Range"), obj.size)
    data = await store.read_data(obj)
    if span is None:
        return web.Response(body=data, headers=headers)
    start, end = span
    headers["Content-Range"] = f"bytes {start}-{end}/{obj.size}"
    return web.Response(status=206, body=data[start : end + 1], headers=headers)
