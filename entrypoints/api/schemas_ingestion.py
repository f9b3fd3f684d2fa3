"""The `POST /v1/ingestions` body (validated at the edge, then turned into a domain IngestionSpec) and
its 202 answer."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from domain.types.ingestion import COLUMN_TYPES, MAX_PARTITIONS, Cleaning, Dedupe, Dispatch, IngestionSpec
from domain.types.ingestion import SourceFormat as Format
from domain.types.ingestion import WriteMode as Mode
from domain.types.jobs import JobRecord
from domain.types.partitions import IngestionInputs, planned_partitions

_IDENT = r"^[A-Za-z_][A-Za-z0-9_]{0,127}$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, strict=True)  # as schemas.py: "3" is no 3


class CleaningIn(_Strict):
    dedupe: Literal["none", "exact", "keys"] = Field(default="none", description="drop duplicate rows (or keys)")
    drop_nulls: list[str] = Field(default_factory=list, max_length=1000, description="drop rows with a null here")
    schema_: dict[str, str] = Field(default_factory=dict, alias="schema",
                                    description=f"column -> type ({', '.join(sorted(COLUMN_TYPES))}); else inferred")


class IngestionIn(_Strict):
    sources: list[str] = Field(min_length=1, max_length=10_000, description="paths, globs or URIs")
    table: str = Field(pattern=_IDENT, description="target warehouse table")
    format: Literal["auto", "csv", "parquet"] = "auto"
    mode: Literal["append", "replace", "upsert"] = "append"
    keys: list[str] = Field(default_factory=list, max_length=64, description="key columns (upsert, dedupe keys)")
    cleaning: CleaningIn = Field(default_factory=CleaningIn)
    partitions: Literal["auto"] | int = Field(default="auto", description=f"'auto' or 1..{MAX_PARTITIONS}")
    max_reject_ratio: float = Field(default=0.05, ge=0.0, le=1.0)
    dispatch: Literal["queue", "external"] = Field(
        default="queue", description="'external': partitions run as Cloud Run Job tasks (mlplane ingest-task)")

    def to_domain(self) -> IngestionSpec:
        cleaning = Cleaning(Dedupe(self.cleaning.dedupe), tuple(self.cleaning.drop_nulls), dict(self.cleaning.schema_))
        partitions = None if self.partitions == "auto" else int(self.partitions)
        return IngestionSpec(tuple(self.sources), self.table, Format(self.format), Mode(self.mode), tuple(self.keys),
                             cleaning, partitions, self.max_reject_ratio, Dispatch(self.dispatch))


class IngestionScheduleIn(_Strict):
    """`PUT /v1/ingestion-schedules/{name}`: a cron schedule that runs `ingestion` at each fire."""

    cron: str = Field(min_length=1, max_length=200, description="five-field cron, e.g. '0 * * * *' (hourly)")
    timezone: str = Field(default="UTC", max_length=64, description="IANA time zone the cron is read in")
    enabled: bool = True
    ingestion: IngestionIn = Field(description="the body POST /v1/ingestions takes; sources expand at each fire")


class IngestionAcceptedOut(BaseModel):
    """The 202 answer to POST /v1/ingestions."""

    # Documents the answer in /openapi.json; accepted_fields() and accepted() build it.

    ingestion_id: str
    job_id: str = Field(description="the same id: ingestions are jobs, with the jobs' endpoints")
    status: Literal["queued"]
    events_url: str
    ws_url: str
    sources: int = Field(description="files the sources expanded to")
    bytes_total: int = Field(description="their size in bytes")
    partitions: int | None = Field(description="null: the split is made after the 202, and the job's `progress` "
                                               "event with stage 'planned' carries the count; a number for "
                                               "dispatch 'external', planned before the 202")


def accepted_fields(record: JobRecord) -> dict[str, Any]:
    """The ingestion's own fields of the 202 answer (accepted() adds the job's)."""
    inputs = IngestionInputs.from_dict(record.spec)
    return {"ingestion_id": record.id, "sources": len(inputs.files), "bytes_total": inputs.bytes_total,
            "partitions": planned_partitions(record.spec)}
