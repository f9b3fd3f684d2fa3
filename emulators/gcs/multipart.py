"""Parse the two-part ``multipart/related`` body of a multipart upload.

Part one is the JSON metadata, part two the raw object bytes. We locate the
closing delimiter from the end so that object bytes are taken verbatim.
"""

from __future__ import annotations

import json
from typing import Any

from .errors import bad_request


def boundary_of(content_type: str) -> str:
    for param in content_type.split(";")[1:]:
        key, _, value = param.strip().partition("=")
        if key.lower() == "boundary":
            return value.strip().strip('"')
    raise bad_request("Missing multipart boundary.")


def _split_part(part: bytes) -> tuple[dict[str, str], bytes]:
    head, sep, body = part.partition(b"\r\n\r\n")
    if not sep:
        raise bad_request("Malformed multipart part.")
    headers = {}
    for line in head.decode("latin-1").split("\r\n"):
        key, _, value = line.partition(":")
        if key.strip():
            headers[key.strip().lower()] = value.strip()
    return headers, body


def parse_related(body: bytes, content_type: str) -> tuple[dict[str, Any], bytes, str | None]:
    """Return (metadata, media bytes, media content type)."""
    delim = b"--" + boundary_of(content_type).encode("latin-1")
    first = body.find(delim)
    second = body.find(b"\r\n" + delim, first + len(delim))
    closing = body.rfind(b"\r\n" + delim + b"--")
    if first < 0 or second < 0 or closing < second:
        raise bad_request("Malformed multipart body.")
    meta_part = body[first + len(delim) + 2 : second]
    media_part = body[second + 2 + len(delim) + 2 : closing]
    _, meta_raw = _split_part(meta_part)
    media_headers, media = _split_part(media_part)
    try:
        metadata = json.loads(meta_raw or b"{}")
    except ValueError:
        raise bad_request("Multipart metadata is not JSON.") from None
    return metadata, media, media_headers.get("content-type")
