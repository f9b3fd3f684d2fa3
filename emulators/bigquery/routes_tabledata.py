"""REST handlers for ``tabledata.insertAll`` and ``tabledata.list``."""

from __future__ import annotations

from aiohttp import web

from .encode import encode_rows
from .results import DEFAULT_PAGE_ROWS
from .state import int_param, json_body, json_reply, state_of
from .tabledata import insert_all, list_rows

BASE = "/bigquery/v2/projects/{project}/datasets/{dataset}/tables/{table}"


def _ref(request: web.Request) -> tuple[str, str, str]:
    info = request.match_info
    return info["project"], info["dataset"], info["table"]


async def insert_rows(request: web.Request) -> web.Response:
    state = state_of(request)
    body = await json_body(request)
    errors = await state.engine.call(insert_all, _ref(request), body, state.insert_ids)
    reply: dict = {"kind": "bigquery#tableDataInsertAllResponse"}
    if errors:
        reply["insertErrors"] = errors
    return web.json_response(reply)


async def list_data(request: web.Request) -> web.Response:
    state = state_of(request)
    token = request.query.get("pageToken")
    start = int(token) if token and token.isdigit() else (int_param(request, "startIndex") or 0)
    max_results = int_param(request, "maxResults")
    limit = DEFAULT_PAGE_ROWS if max_results is None else min(max_results, DEFAULT_PAGE_ROWS)
    selected = [s for s in request.query.get("selectedFields", "").split(",") if s] or None
    fields, data, total = await state.engine.call(list_rows, _ref(request), start, limit, selected)
    body: dict = {"kind": "bigquery#tableDataList", "totalRows": str(total)}
    if data.num_rows:
        body["rows"] = await state.engine.offload(encode_rows, data, fields)
    if start + data.num_rows < total and limit:
        body["pageToken"] = str(start + data.num_rows)
    return await json_reply(state, body)


def add_routes(app: web.Application) -> None:
    app.router.add_post(f"{BASE}/insertAll", insert_rows, name="tabledata.insertAll")
    app.router.add_get(f"{BASE}/data", list_data, name="tabledata.list")
