"""Load-job uploads: ``/upload/bigquery/v2/projects/{p}/jobs`` in multipart and
resumable flavours (the protocol google-resumable-media speaks).

The job id is reserved when the upload starts, so re-sending a job whose id
already exists answers 409 and a retried load is never applied twice.
"""

from __future__ import annotations

import json
import os
import re
import uuid
from dataclasses import dataclass

from aiohttp import web

from .errors import ApiError, invalid, not_found
from .jobs import Job
from .runner import run_load_job
from .state import EmulatorState, json_body, state_of

PATH = "/upload/bigquery/v2/projects/{project}/jobs"
_RANGE = re.compile(r"bytes (?:(\d+)-(\d+)|\*)/(\d+|\*)")


@dataclass
class Upload:
    job: Job
    path: str
    received: int = 0


async def _finish(state: EmulatorState, job: Job, path: str) -> web.Response:
    if "load" not in job.configuration:
        job.finish(invalid("Uploads are only supported for load jobs"))
    else:
        job.configuration["jobType"] = "LOAD"
        try:
            await run_load_job(state, job, [path], os.path.getsize(path))
            job.finish()
        except ApiError as err:  # the job records the failure; the upload itself succeeded
            job.finish(err)
        except Exception as exc:  # never leave the job RUNNING for clients to poll forever
            job.finish(ApiError("emulatorError", f"{type(exc).__name__}: {exc}", status=500))
    os.unlink(path)
    return web.json_response(job.resource())


async def _multipart(request: web.Request, state: EmulatorState) -> web.Response:
    reader = await request.multipart()
    meta_part = await reader.next()
    if meta_part is None:
        raise invalid("multipart upload without parts")
    meta = json.loads(await meta_part.read(decode=False) or b"{}")
    job = state.jobs.reserve(request.match_info["project"], meta)
    path = os.path.join(state.tmp.name, f"upload-{uuid.uuid4().hex}")
    data_part = await reader.next()
    with open(path, "wb") as out:
        while data_part is not None and (chunk := await data_part.read_chunk(1 << 20)):
            out.write(chunk)
    return await _finish(state, job, path)


async def _start_resumable(request: web.Request, state: EmulatorState) -> web.Response:
    meta = await json_body(request)
    job = state.jobs.reserve(request.match_info["project"], meta)
    upload_id = uuid.uuid4().hex
    path = os.path.join(state.tmp.name, f"upload-{upload_id}")
    open(path, "wb").close()
    state.uploads[upload_id] = Upload(job, path)
    location = f"{request.scheme}://{request.host}{request.path}?uploadType=resumable&upload_id={upload_id}"
    return web.Response(status=200, headers={"Location": location})


async def start_upload(request: web.Request) -> web.Response:
    state = state_of(request)
    kind = request.query.get("uploadType", "")
    if kind == "multipart":
        return await _multipart(request, state)
    if kind == "resumable":
        return await _start_resumable(request, state)
    raise invalid(f"Unsupported uploadType {kind!r}")


def _incomplete(upload: Upload) -> web.Response:
    headers = {"Range": f"bytes=0-{upload.received - 1}"} if upload.received else {}
    return web.Response(status=308, headers=headers)


async def put_chunk(request: web.Request) -> web.Response:
    state = state_of(request)
    upload = state.uploads.get(request.query.get("upload_id", ""))
    if upload is None:
        raise not_found("upload session")
    match = _RANGE.fullmatch(request.headers.get("Content-Range", "bytes */*").strip())
    if match is None:
        raise invalid("Malformed Content-Range header")
    first, _last, total = match.groups()
    data = await request.read()
    if first is not None and data:
        with open(upload.path, "r+b") as out:
            out.seek(int(first))
            out.write(data)
        upload.received = max(upload.received, int(first) + len(data))
    if total == "*" or upload.received < int(total):
        return _incomplete(upload)
    del state.uploads[request.query["upload_id"]]
    return await _finish(state, upload.job, upload.path)


async def cancel_upload(request: web.Request) -> web.Response:
    upload = state_of(request).uploads.pop(request.query.get("upload_id", ""), None)
    if upload is not None:
        os.unlink(upload.path)
    return web.Response(status=499)


def add_routes(app: web.Application) -> None:
    app.router.add_post(PATH, start_upload, name="jobs.upload")
    app.router.add_put(PATH, put_chunk, name="jobs.uploadChunk")
    app.router.add_delete(PATH, cancel_upload, name="jobs.uploadCancel")
