"""Bucket endpoints: insert, get, list, patch/update, delete."""

from __future__ import annotations

from aiohttp import web

from .context import STORE, Params, base_url, json_body
from .errors import GcsError
from .listing import page_of_names, page_size
from .model import DEFAULT_PROJECT, bucket_resource

# Fields the client may send that we store as-is on the bucket.
_BUCKET_PROPS = ("location", "storageClass", "versioning", "labels", "iamConfiguration",
                 "lifecycle", "cors", "retentionPolicy", "website", "logging", "billing",
                 "defaultEventBasedHold", "autoclass", "hierarchicalNamespace", "softDeletePolicy")


def _props(body: dict[str, object]) -> dict[str, object]:
    return {k: body[k] for k in _BUCKET_PROPS if k in body}


def _project(request: web.Request) -> str:
    # The client sends the literal "<none>" when it has no project.
    project = request.query.get("project", "")
    return DEFAULT_PROJECT if project in ("", "<none>") else project


async def insert_bucket(request: web.Request, p: Params) -> web.Response:
    body = await json_body(request)
    bucket = await request.app[STORE].create_bucket(
        str(body.get("name") or ""), _project(request), _props(body))
    return web.json_response(bucket_resource(bucket, base_url(request)))


async def get_bucket(request: web.Request, p: Params) -> web.Response:
    bucket = request.app[STORE].get_bucket(p["bucket"])
    _check_metageneration(request, bucket.metageneration)
    return web.json_response(bucket_resource(bucket, base_url(request)))


async def list_buckets(request: web.Request, p: Params) -> web.Response:
    store = request.app[STORE]
    prefix = request.query.get("prefix", "")
    names = sorted(n for n in store.buckets if n.startswith(prefix))
    page, token = page_of_names(names, page_size(request.query), request.query.get("pageToken"))
    body: dict[str, object] = {"kind": "storage#buckets"}
    if page:
        body["items"] = [bucket_resource(store.buckets[n], base_url(request)) for n in page]
    if token:
        body["nextPageToken"] = token
    return web.json_response(body)


async def patch_bucket(request: web.Request, p: Params) -> web.Response:
    store = request.app[STORE]
    _check_metageneration(request, store.get_bucket(p["bucket"]).metageneration)
    body = await json_body(request)
    bucket = await store.patch_bucket(p["bucket"], _props(body), replace=request.method == "PUT")
    return web.json_response(bucket_resource(bucket, base_url(request)))


async def delete_bucket(request: web.Request, p: Params) -> web.Response:
    store = request.app[STORE]
    _check_metageneration(request, store.get_bucket(p["bucket"]).metageneration)
    await store.delete_bucket(p["bucket"])
    return web.Response(status=204)


def _check_metageneration(request: web.Request, current: int) -> None:
    match = request.query.get("ifMetagenerationMatch")
    not_match = request.query.get("ifMetagenerationNotMatch")
    if match and int(match) != current:
        raise GcsError(412, "At least one of the pre-conditions you specified did not hold.")
    if not_match and int(not_match) == current:
        raise GcsError(412 if request.method != "GET" else 304,
                       "At least one of the pre-conditions you specified did not hold.")
