"""Object metadata endpoints: get, list, patch/update, delete, copy, rewrite, compose."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from .context import STORE, Params, base_url, int_param, json_body
from .errors import bad_request
from .handlers_media import serve_media
from .listing import ListSpec, list_page, page_size, parse_bool
from .model import ObjectVersion, object_resource, writable_props
from .preconditions import Preconditions


async def get_object(request: web.Request, p: Params) -> web.StreamResponse:
    if request.query.get("alt") == "media":
        return await serve_media(request, p)
    obj = request.app[STORE].get_object(p["bucket"], p["object"], int_param(request, "generation"))
    Preconditions.from_query(request.query).check(obj, write=False)
    return web.json_response(object_resource(obj, base_url(request)))


async def list_objects(request: web.Request, p: Params) -> web.Response:
    objects = request.app[STORE].list_objects(p["bucket"], parse_bool(request.query.get("versions")))
    page = list_page(objects, ListSpec.from_query(request.query), page_size(request.query),
                     request.query.get("pageToken"))
    body: dict[str, Any] = {"kind": "storage#objects"}
    # Real GCS omits empty lists; clients cope either way, but mirror it.
    if page.items:
        body["items"] = [object_resource(o, base_url(request)) for o in page.items]
    if page.prefixes:
        body["prefixes"] = page.prefixes
    if page.next_token:
        body["nextPageToken"] = page.next_token
    return web.json_response(body)


async def patch_object(request: web.Request, p: Params) -> web.Response:
    body = await json_body(request)
    obj = await request.app[STORE].patch_object(
        p["bucket"], p["object"], int_param(request, "generation"), body,
        Preconditions.from_query(request.query), replace=request.method == "PUT")
    return web.json_response(object_resource(obj, base_url(request)))


async def delete_object(request: web.Request, p: Params) -> web.Response:
    await request.app[STORE].delete_object(p["bucket"], p["object"], int_param(request, "generation"),
                                           Preconditions.from_query(request.query))
    return web.Response(status=204)


async def _copy(request: web.Request, p: Params) -> ObjectVersion:
    """Shared by copyTo and rewriteTo: the body holds destination properties."""
    store = request.app[STORE]
    source = store.get_object(p["bucket"], p["object"], int_param(request, "sourceGeneration"))
    Preconditions.from_query(request.query, source=True).check(source, write=True)
    data = await store.read_data(source)
    props = {**source.props, **writable_props(await json_body(request))}
    return await store.put_object(p["dst_bucket"], p["dst_object"], data, props,
                                  Preconditions.from_query(request.query))


async def copy_object(request: web.Request, p: Params) -> web.Response:
    obj = await _copy(request, p)
    return web.json_response(object_resource(obj, base_url(request)))


async def rewrite_object(request: web.Request, p: Params) -> web.Response:
    # Always finish in one call: the client reads ``resource`` only when done.
    obj = await _copy(request, p)
    return web.json_response({
        "kind": "storage#rewriteResponse",
        "totalBytesRewritten": str(obj.size),
        "objectSize": str(obj.size),
        "done": True,
        "resource": object_resource(obj, base_url(request)),
    })


async def compose_object(request: web.Request, p: Params) -> web.Response:
    store = request.app[STORE]
    body = await json_body(request)
    sources = body.get("sourceObjects") or []
    if not sources or len(sources) > 32:
        raise bad_request("Compose needs between 1 and 32 source objects.")
    parts, components = [], 0
    for src in sources:
        generation = int(src["generation"]) if src.get("generation") else None
        obj = store.get_object(p["bucket"], src["name"], generation)
        match = (src.get("objectPreconditions") or {}).get("ifGenerationMatch")
        Preconditions(generation_match=int(match) if match else None).check(obj, write=True)
        parts.append(await store.read_data(obj))
        components += obj.component_count or 1
    props = writable_props(body.get("destination") or {})
    obj = await store.put_object(p["bucket"], p["object"], b"".join(parts), props,
                                 Preconditions.from_query(request.query), component_count=components)
    return web.json_response(object_resource(obj, base_url(request)))
