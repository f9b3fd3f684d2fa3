"""Run a reserved job to completion (query, load from gs:// or a file, copy)."""

from __future__ import annotations

import logging
import os

from .engine import qualified
from .errors import ApiError, invalid, not_implemented
from .gcs import fetch_sources
from .jobs import Job
from .loads import run_load
from .query import run_query
from .state import EmulatorState
from .tables import table_fields
from .writes import write_source

log = logging.getLogger(__name__)


async def _run_query(state: EmulatorState, job: Job) -> None:
    config = job.configuration
    cfg = {**config["query"], "dryRun": config.get("dryRun")}
    if cfg.get("useLegacySql"):
        raise not_implemented("Legacy SQL is not supported by the emulator")
    result = await state.engine.call(run_query, job.project, cfg)
    job.fields, job.table = result.fields, result.table
    stats: dict = {
        "totalBytesProcessed": str(result.bytes_processed),
        "totalBytesBilled": "0",
        "statementType": result.kind,
        "cacheHit": False,
        "schema": {"fields": result.fields},
    }
    if result.dml_rows is not None:
        stats["numDmlAffectedRows"] = str(result.dml_rows)
    if result.table is not None:
        stats["totalRows"] = str(result.table.num_rows)
    job.statistics = {"totalBytesProcessed": stats["totalBytesProcessed"], "query": stats}


async def run_load_job(state: EmulatorState, job: Job, paths: list[str], size: int) -> None:
    cfg = job.configuration["load"]
    rows = await state.engine.call(run_load, job.project, cfg, paths)
    job.statistics = {
        "load": {
            "inputFiles": str(len(paths)),
            "inputFileBytes": str(size),
            "outputRows": str(rows),
            "outputBytes": str(rows * 8),
            "badRecords": "0",
        }
    }


async def _run_gcs_load(state: EmulatorState, job: Job) -> None:
    uris = job.configuration["load"].get("sourceUris") or []
    if not uris:
        raise invalid("configuration.load.sourceUris is required")
    paths, size = await fetch_sources(state.gcs_url, uris, state.tmp.name)
    try:
        await run_load_job(state, job, paths, size)
    finally:
        for path in paths:
            os.unlink(path)


def _copy(con, project: str, cfg: dict) -> int:
    sources = cfg.get("sourceTables") or [cfg.get("sourceTable")]
    dest = cfg["destinationTable"]
    ref = (dest.get("projectId") or project, dest["datasetId"], dest["tableId"])
    total, write = 0, cfg.get("writeDisposition") or "WRITE_EMPTY"
    for index, src in enumerate(sources):
        src_ref = (src.get("projectId") or project, src["datasetId"], src["tableId"])
        fields = table_fields(con, *src_ref)
        select = f"SELECT * FROM {qualified(*src_ref)}"
        total += write_source(con, ref, select, fields=fields, create=cfg.get("createDisposition"),
                              write=write if index == 0 else "WRITE_APPEND")
    return total


async def run_job(state: EmulatorState, job: Job) -> None:
    """Execute ``job``; failures end up in the job's errorResult, never raised."""
    config = job.configuration
    try:
        if "query" in config:
            config["jobType"] = "QUERY"
            await _run_query(state, job)
        elif "load" in config:
            config["jobType"] = "LOAD"
            await _run_gcs_load(state, job)
        elif "copy" in config:
            config["jobType"] = "COPY"
            await state.engine.call(_copy, job.project, config["copy"])
        else:
            raise not_implemented("Only query, load and copy jobs are supported by the emulator")
        job.finish()
    except ApiError as err:
        job.finish(err)
    except (KeyError, TypeError) as exc:
        job.finish(invalid(f"Malformed job configuration: missing or invalid {exc}"))
    except Exception as exc:
        # Never leave a job RUNNING: clients would poll it until their deadline.
        log.exception("job %s crashed", job.job_id)
        job.finish(ApiError("emulatorError", f"{type(exc).__name__}: {exc}", status=500))
    state.jobs.evict()
