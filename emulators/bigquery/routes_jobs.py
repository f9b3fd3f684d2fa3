"""REST handlers for jobs (insert, get, list, cancel, delete) and queries
(jobs.query, jobs.getQueryResults)."""

from __future__ import annotations

import uuid

from aiohttp import web

from .errors import invalid
from .jobs import Job
from .results import results_page
from .runner import run_job
from .state import int_param, json_body, json_reply, paginate, state_of

BASE = "/bigquery/v2/projects/{project}"
# jobs.query body keys that belong in the job's configuration.query.
_QUERY_KEYS = (
    "query", "useLegacySql", "queryParameters", "parameterMode", "defaultDataset",
    "useQueryCache", "labels", "maximumBytesBilled", "connectionProperties", "createSession",
)


async def insert_job(request: web.Request) -> web.Response:
    state = state_of(request)
    body = await json_body(request)
    job = state.jobs.reserve(request.match_info["project"], body)
    await run_job(state, job)
    if job.error is not None and job.configuration.get("dryRun"):
        # A dry run answers synchronously, so its failure is an HTTP error, as in BigQuery.
        raise job.error
    return web.json_response(job.resource())


def _job(request: web.Request) -> Job:
    return state_of(request).jobs.get(request.match_info["project"], request.match_info["job_id"])


async def get_job(request: web.Request) -> web.Response:
    return web.json_response(_job(request).resource())


async def list_jobs(request: web.Request) -> web.Response:
    jobs = state_of(request).jobs.list(request.match_info["project"])
    wanted = {s.upper() for s in request.query.getall("stateFilter", [])}
    jobs = [j for j in jobs if not wanted or j.state.upper() in wanted]
    page, token = paginate(jobs, int_param(request, "maxResults"), request.query.get("pageToken"))
    body: dict = {"kind": "bigquery#jobList", "jobs": [{**j.resource(), "state": j.state} for j in page]}
    if token:
        body["nextPageToken"] = token
    return web.json_response(body)


async def cancel_job(request: web.Request) -> web.Response:
    # Jobs finish inside the request that created them; cancelling is a no-op.
    return web.json_response({"kind": "bigquery#jobCancelResponse", "job": _job(request).resource()})


async def delete_job(request: web.Request) -> web.Response:
    state_of(request).jobs.delete(request.match_info["project"], request.match_info["job_id"])
    return web.Response(status=204)


async def get_query_results(request: web.Request) -> web.Response:
    job = _job(request)
    if "query" not in job.configuration:
        raise invalid(f"Job {job.job_id} is not a query job")
    if job.error is not None:
        raise job.error
    body = await results_page(
        state_of(request), job, int_param(request, "maxResults"),
        request.query.get("pageToken"), int_param(request, "startIndex"),
    )
    return await json_reply(state_of(request), {"kind": "bigquery#getQueryResultsResponse", **body})


async def _job_for_request(request: web.Request, body: dict) -> Job:
    """Create and run the job behind a jobs.query call; a repeated requestId reuses it."""
    state = state_of(request)
    project = request.match_info["project"]
    request_id = body.get("requestId")
    if request_id and request_id in state.request_ids:
        return state.jobs.get(*state.request_ids[request_id])
    config: dict = {"query": {k: body[k] for k in _QUERY_KEYS if k in body}}
    if body.get("dryRun"):
        config["dryRun"] = True
    ref = {"projectId": project, "jobId": f"job_{uuid.uuid4().hex}", "location": body.get("location")}
    job = state.jobs.reserve(project, {"jobReference": ref, "configuration": config})
    if request_id:
        state.request_ids[request_id] = (job.project, job.job_id)
    await run_job(state, job)
    return job


async def query(request: web.Request) -> web.Response:
    body = await json_body(request)
    job = await _job_for_request(request, body)
    if job.error is not None:
        # jobs.query reports SQL errors as HTTP errors, unlike jobs.insert.
        raise job.error
    max_results = body.get("maxResults")
    if job.configuration.get("dryRun"):
        max_results = 0
    page = await results_page(state_of(request), job, max_results, None)
    return await json_reply(state_of(request), {"kind": "bigquery#queryResponse", "queryId": job.job_id, **page})


def add_routes(app: web.Application) -> None:
    job = f"{BASE}/jobs/{{job_id}}"
    app.router.add_post(f"{BASE}/jobs", insert_job, name="jobs.insert")
    app.router.add_get(f"{BASE}/jobs", list_jobs, name="jobs.list")
    app.router.add_get(job, get_job, name="jobs.get")
    app.router.add_post(f"{job}/cancel", cancel_job, name="jobs.cancel")
    app.router.add_delete(f"{job}/delete", delete_job, name="jobs.delete")
    app.router.add_post(f"{BASE}/queries", query, name="jobs.query")
    app.router.add_get(f"{BASE}/queries/{{job_id}}", get_query_results, name="jobs.getQueryResults")
