"""Upload endpoints: ``uploadType=media``, ``multipart`` and ``resumable``.

The object name travels in the JSON metadata for the official client, and in
``?name=`` for other tools; both are accepted. Declared checksums (metadata
``crc32c``/``md5Hash`` or the final chunk's ``X-Goog-Hash``) are verified and a
mismatch is rejected with 400, like the real service.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from .checksums import crc32c_b64, md5_b64, parse_goog_hash
from .context import SESSIONS, STORE, Params, base_url, json_body
from .errors import bad_request, not_found
from .model import ObjectVersion, object_resource, writable_props
from .multipart import parse_related
from .preconditions import Preconditions


def _name(metadata: dict[str, Any], request: web.Request) -> str:
    name = metadata.get("name") or request.query.get("name")
    if not name:
        raise bad_request("Object name is required.", "required")
    return str(name)


def verify_checksums(data: bytes, declared: dict[str, str]) -> None:
    """``declared`` maps ``crc32c``/``md5`` to the base64 values the client sent."""
    actual = {"crc32c": crc32c_b64, "md5": md5_b64}
    for kind, value in declared.items():
        if kind in actual and value and value != actual[kind](data):
            raise bad_request(f"Provided {kind.upper()} \"{value}\" doesn't match calculated "
                              f"{kind.upper()} \"{actual[kind](data)}\".")


def _declared(metadata: dict[str, Any]) -> dict[str, str]:
    return {"crc32c": metadata.get("crc32c") or "", "md5": metadata.get("md5Hash") or ""}


async def _commit(request: web.Request, bucket: str, name: str, data: bytes,
                  props: dict[str, Any], pre: Preconditions) -> ObjectVersion:
    return await request.app[STORE].put_object(bucket, name, data, props, pre)


async def upload(request: web.Request, p: Params) -> web.Response:
    kind = request.query.get("uploadType", "")
    if kind == "resumable":
        return await _initiate(request, p)
    pre = Preconditions.from_query(request.query)
    if kind == "media":
        data = await request.read()
        props = {"contentType": request.content_type,
                 "contentEncoding": request.query.get("contentEncoding")}
        obj = await _commit(request, p["bucket"], _name({}, request), data, props, pre)
    elif kind == "multipart":
        metadata, data, media_type = parse_related(
            await request.read(), request.headers.get("Content-Type", ""))
        verify_checksums(data, _declared(metadata))
        props = writable_props(metadata)
        props.setdefault("contentType", media_type)
        obj = await _commit(request, p["bucket"], _name(metadata, request), data, props, pre)
    else:
        raise bad_request(f"Unsupported uploadType: '{kind}'")
    # The client accepts exactly 200 here.
    return web.json_response(object_resource(obj, base_url(request)))


async def _initiate(request: web.Request, p: Params) -> web.Response:
    metadata = await json_body(request)
    name = _name(metadata, request)
    pre = Preconditions.from_query(request.query)
    # Fail early like GCS; the check is repeated when the last chunk commits.
    pre.check(request.app[STORE].live(p["bucket"], name), write=True)
    props = writable_props(metadata)
    props.setdefault("contentType", request.headers.get("X-Upload-Content-Type"))
    session = request.app[SESSIONS].open(p["bucket"], name, props, pre, _declared(metadata))
    location = (f"{base_url(request)}/upload/storage/v1/b/{p['bucket']}/o"
                f"?uploadType=resumable&upload_id={session.id}")
    return web.json_response({}, headers={"Location": location})


async def upload_chunk(request: web.Request, p: Params) -> web.Response:
    session = request.app[SESSIONS].get(request.query.get("upload_id", ""))
    if session is None or session.bucket != p["bucket"]:
        raise not_found("No such upload session.")
    if session.result is not None:  # already final: a retried last chunk gets the object again
        return web.json_response(object_resource(session.result, base_url(request)))
    data = await request.read()
    if not session.accept(request.headers.get("Content-Range"), data):
        headers = {"Range": f"bytes=0-{session.persisted - 1}"} if session.persisted else {}
        return web.Response(status=308, headers=headers)
    payload = bytes(session.buffer)
    hashes = parse_goog_hash(request.headers.get("X-Goog-Hash"))
    verify_checksums(payload, {**session.declared, **{k: v for k, v in hashes.items() if v}})
    session.result = await _commit(request, session.bucket, session.name, payload,
                                   session.props, session.pre)
    session.buffer = bytearray()  # the bytes now live in the store
    return web.json_response(object_resource(session.result, base_url(request)))


async def cancel_upload(request: web.Request, p: Params) -> web.Response:
    if not request.app[SESSIONS].cancel(request.query.get("upload_id", "")):
        raise not_found("No such upload session.")
    return web.Response(status=499, text="")
