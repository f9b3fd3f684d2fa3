"""The route table, matched on the raw (still percent-encoded) path.

Object names arrive fully percent-encoded (``/`` as ``%2F``), so we split the
raw path on literal ``/`` first and decode each segment afterwards; decoding
first would confuse a name like ``a/copyTo/b`` with the copy endpoint. A
trailing ``{object*}`` also accepts names sent with literal slashes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import unquote

from aiohttp import web

from . import handlers_buckets as hb
from . import handlers_media as hm
from . import handlers_objects as ho
from . import handlers_uploads as hu

Handler = Callable[[web.Request, dict[str, str]], Awaitable[web.StreamResponse]]

_OBJ = "storage/v1/b/{bucket}/o/{object}"


@dataclass(frozen=True)
class Route:
    method: str
    pattern: tuple[str, ...]
    operation: str
    handler: Handler


def _route(method: str, pattern: str, operation: str, handler: Handler) -> Route:
    return Route(method, tuple(pattern.split("/")), operation, handler)


# Specific suffix routes come before the greedy object routes.
ROUTES = [
    _route("POST", "storage/v1/b", "bucket.insert", hb.insert_bucket),
    _route("GET", "storage/v1/b", "bucket.list", hb.list_buckets),
    _route("GET", "storage/v1/b/{bucket}", "bucket.get", hb.get_bucket),
    _route("PATCH", "storage/v1/b/{bucket}", "bucket.patch", hb.patch_bucket),
    _route("PUT", "storage/v1/b/{bucket}", "bucket.patch", hb.patch_bucket),
    _route("DELETE", "storage/v1/b/{bucket}", "bucket.delete", hb.delete_bucket),
    _route("GET", "storage/v1/b/{bucket}/o", "object.list", ho.list_objects),
    _route("POST", _OBJ + "/copyTo/b/{dst_bucket}/o/{dst_object}", "object.copy", ho.copy_object),
    _route("POST", _OBJ + "/rewriteTo/b/{dst_bucket}/o/{dst_object}", "object.rewrite",
           ho.rewrite_object),
    _route("POST", _OBJ + "/compose", "object.compose", ho.compose_object),
    _route("GET", "storage/v1/b/{bucket}/o/{object*}", "object.get", ho.get_object),
    _route("PATCH", "storage/v1/b/{bucket}/o/{object*}", "object.patch", ho.patch_object),
    _route("PUT", "storage/v1/b/{bucket}/o/{object*}", "object.patch", ho.patch_object),
    _route("DELETE", "storage/v1/b/{bucket}/o/{object*}", "object.delete", ho.delete_object),
    _route("GET", "download/storage/v1/b/{bucket}/o/{object*}", "download", hm.serve_media),
    _route("POST", "upload/storage/v1/b/{bucket}/o", "upload", hu.upload),
    _route("PUT", "upload/storage/v1/b/{bucket}/o", "upload.chunk", hu.upload_chunk),
    _route("DELETE", "upload/storage/v1/b/{bucket}/o", "upload.cancel", hu.cancel_upload),
]


def _match(pattern: tuple[str, ...], segments: list[str]) -> dict[str, str] | None:
    params: dict[str, str] = {}
    for index, part in enumerate(pattern):
        if part.endswith("*}"):  # greedy: the rest of the path
            rest = segments[index:]
            if not rest or not rest[0]:
                return None
            params[part[1:-2]] = unquote("/".join(rest))
            return params
        if index >= len(segments):
            return None
        if part.startswith("{"):
            if not segments[index]:
                return None
            params[part[1:-1]] = unquote(segments[index])
        elif part != segments[index]:
            return None
    return params if len(segments) == len(pattern) else None


def resolve(method: str, raw_path: str) -> tuple[Route, dict[str, str]] | None:
    segments = raw_path.split("?", 1)[0].strip("/").split("/")
    for route in ROUTES:
        if route.method != method and not (method == "HEAD" and route.method == "GET"):
            continue
        params = _match(route.pattern, segments)
        if params is not None:
            return route, params
    return None
