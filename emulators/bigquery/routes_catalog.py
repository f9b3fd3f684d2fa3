"""REST handlers for datasets and tables (create, get, list, patch, delete)."""

from __future__ import annotations

from aiohttp import web

from . import datasets, tables
from .sql import translate
from .state import flag, int_param, json_body, paginate, state_of

BASE = "/bigquery/v2/projects/{project}"


def _ids(request: web.Request) -> tuple[str, ...]:
    info = request.match_info
    return tuple(info[k] for k in ("project", "dataset", "table") if k in info)


async def insert_dataset(request: web.Request) -> web.Response:
    body = await json_body(request)
    res = await state_of(request).engine.call(datasets.create_dataset, request.match_info["project"], body)
    return web.json_response(res)


async def get_dataset(request: web.Request) -> web.Response:
    return web.json_response(await state_of(request).engine.call(datasets.get_dataset, *_ids(request)))


async def list_datasets(request: web.Request) -> web.Response:
    items = await state_of(request).engine.call(datasets.list_datasets, request.match_info["project"])
    page, token = paginate(items, int_param(request, "maxResults"), request.query.get("pageToken"))
    keys = ("kind", "id", "datasetReference", "location", "labels", "friendlyName")
    body: dict = {"kind": "bigquery#datasetList", "datasets": [{k: d[k] for k in keys if k in d} for d in page]}
    if token:
        body["nextPageToken"] = token
    return web.json_response(body)


async def patch_dataset(request: web.Request) -> web.Response:
    body = await json_body(request)
    res = await state_of(request).engine.call(datasets.patch_dataset, *_ids(request), body)
    return web.json_response(res)


async def delete_dataset(request: web.Request) -> web.Response:
    contents = flag(request, "deleteContents")
    await state_of(request).engine.call(datasets.delete_dataset, *_ids(request), contents)
    return web.Response(status=204)


async def insert_table(request: web.Request) -> web.Response:
    project, dataset = _ids(request)
    body = await json_body(request)
    view_sql = None
    view = body.get("view") or {}
    if view.get("query"):
        default = {"projectId": project, "datasetId": dataset}
        view_sql = translate(view["query"], project, default)[0].sql
    res = await state_of(request).engine.call(tables.create_table, project, dataset, body, view_sql)
    return web.json_response(res)


async def get_table(request: web.Request) -> web.Response:
    return web.json_response(await state_of(request).engine.call(tables.get_table, *_ids(request)))


async def list_tables(request: web.Request) -> web.Response:
    items = await state_of(request).engine.call(tables.list_tables, *_ids(request))
    page, token = paginate(items, int_param(request, "maxResults"), request.query.get("pageToken"))
    body: dict = {"kind": "bigquery#tableList", "tables": page, "totalItems": len(items)}
    if token:
        body["nextPageToken"] = token
    return web.json_response(body)


async def patch_table(request: web.Request) -> web.Response:
    body = await json_body(request)
    res = await state_of(request).engine.call(tables.patch_table, *_ids(request), body)
    return web.json_response(res)


async def delete_table(request: web.Request) -> web.Response:
    await state_of(request).engine.call(tables.delete_table, *_ids(request))
    return web.Response(status=204)


def add_routes(app: web.Application) -> None:
    ds, tb = f"{BASE}/datasets/{{dataset}}", f"{BASE}/datasets/{{dataset}}/tables/{{table}}"
    app.router.add_post(f"{BASE}/datasets", insert_dataset, name="datasets.insert")
    app.router.add_get(f"{BASE}/datasets", list_datasets, name="datasets.list")
    app.router.add_get(ds, get_dataset, name="datasets.get")
    app.router.add_patch(ds, patch_dataset, name="datasets.patch")
    app.router.add_put(ds, patch_dataset, name="datasets.update")
    app.router.add_delete(ds, delete_dataset, name="datasets.delete")
    app.router.add_post(f"{ds}/tables", insert_table, name="tables.insert")
    app.router.add_get(f"{ds}/tables", list_tables, name="tables.list")
    app.router.add_get(tb, get_table, name="tables.get")
    app.router.add_patch(tb, patch_table, name="tables.patch")
    app.router.add_put(tb, patch_table, name="tables.update")
    app.router.add_delete(tb, delete_table, name="tables.delete")
