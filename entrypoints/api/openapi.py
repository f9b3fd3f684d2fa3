"""The OpenAPI 3.1 document, with request schemas generated from the same pydantic models."""

from __future__ import annotations

from functools import cache
from typing import Any

from entrypoints.api.schemas import TrainingSpecIn
from entrypoints.api.schemas_ingestion import IngestionAcceptedOut, IngestionIn

_ERROR = {
    "type": "object",
    "properties": {"error": {"type": "object", "properties": {
        "code": {"type": "string"}, "message": {"type": "string"}, "details": {"type": "object"}}}},
}
# The documented 202 answers, by (method, path); other operations document their errors only.
_ACCEPTED: dict[tuple[str, str], Any] = {("post", "/v1/ingestions"): IngestionAcceptedOut}
# (method, path, summary, request body model or None)
_OPERATIONS: list[tuple[str, str, str, Any]] = [
    ("get", "/healthz", "Liveness", None),
    ("get", "/readyz", "Readiness: Redis, warehouse and artifact store answer", None),
    ("get", "/metrics", "Prometheus metrics", None),
    ("get", "/openapi.json", "This document", None),
    ("get", "/v1/tables", "Warehouse tables with columns, types and row counts", None),
    ("get", "/v1/tables/{name}", "One warehouse table", None),
    ("get", "/v1/algorithms", "Algorithms with hyperparameter JSON Schemas", None),
    ("post", "/v1/training-jobs", "Submit a training job; answers 202 at once", TrainingSpecIn),
    ("get", "/v1/training-jobs/{job_id}", "Job record", None),
    ("delete", "/v1/training-jobs/{job_id}", "Cancel a job", None),
    ("get", "/v1/training-jobs/{job_id}/events", "WebSocket: backlog then live events (?after=ID)", None),
    ("get", "/v1/models", "Models in the registry", None),
    ("get", "/v1/models/{name}/versions", "Complete versions of a model", None),
    ("get", "/v1/models/{name}/versions/{version}", "A version's manifest", None),
    ("post", "/v1/ingestions", "Submit a partitioned ingestion; answers 202 at once", IngestionIn),
    ("get", "/v1/ingestions/{ingestion_id}", "Ingestion record; its result is the final report", None),
    ("put", "/v1/ingestion-schedules/{name}", "Save a cron schedule that runs an ingestion spec", None),
    ("get", "/v1/ingestion-schedules", "Ingestion schedules with next and last runs", None),
    ("get", "/v1/ingestion-schedules/{name}", "One ingestion schedule", None),
    ("delete", "/v1/ingestion-schedules/{name}", "Delete an ingestion schedule", None),
    ("get", "/v1/models/{name}/aliases", "A model's aliases and the versions they point to", None),
    ("put", "/v1/models/{name}/aliases/{alias}", "Move an alias (compare-and-swap, audited)", None),
    ("get", "/v1/models/{name}/aliases/{alias}/history", "An alias's audit trail", None),
    ("delete", "/v1/models/{name}/versions/{version}", "Delete a version no alias points to", None),
    ("get", "/v1/models/{name}/versions/{version}/artifact", "One file (?file=NAME) or a zip of all, verified",
     None),
    ("put", "/v1/models/{name}/retention", "Set a model's retention policy", None),
    ("get", "/v1/models/{name}/retention", "A model's retention policy: the stored one or the defaults (source says "
     "which)", None),
    ("get", "/v1/models/{name}/retention/plan", "What the retention policy would delete, and why", None),
    ("post", "/v1/models/{name}/retention/apply", "Apply the retention policy", None),
    ("post", "/v1/models/{name}/retrain", "Retrain now; promotes only a better model; answers 202", None),
    ("put", "/v1/models/{name}/schedule", "Set a model's retraining schedule (cron, weekly by default)", None),
    ("get", "/v1/models/{name}/schedule", "A model's retraining schedule and its next runs", None),
    ("delete", "/v1/models/{name}/schedule", "Delete a model's retraining schedule", None),
    ("get", "/v1/schedules", "Retraining schedules with next runs", None),
    ("get", "/v1/events", "WebSocket: any topics (?topics=job:ID,model:NAME; ?after=ID for one topic, "
     "?after=TOPIC@ID,... for several)", None),
    ("put", "/v1/pipelines/{name}", "Save a pipeline (422 when its features do not match the model)", None),
    ("get", "/v1/pipelines/{name}", "A pipeline's configuration and live stats", None),
    ("delete", "/v1/pipelines/{name}", "Delete a pipeline: its consumers stop, its consumer group goes", None),
    ("get", "/v1/pipelines", "Pipelines with live stats", None),
    ("post", "/v1/streams/{name}/events", "Append {\"events\": [...]} to a stream; answers 202 with ids and "
     "warnings (a stream no pipeline reads)", None),
    ("get", "/v1/streams/{name}/ws", "WebSocket: send {\"events\": [...]} messages, each answered with ids", None),
    ("get", "/v1/dlq", "Dead letters (?pipeline=&kind=event|action&limit=)", None),
    ("post", "/v1/dlq/replay", "Replay every matching dead letter (?pipeline=&kind=)", None),
    ("post", "/v1/dlq/{letter_id}/replay", "Replay one dead letter with its idempotency key", None),
    ("delete", "/v1/dlq/{letter_id}", "Purge one dead letter", None),
]


@cache
def openapi_document() -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for method, path, summary, body in _OPERATIONS:
        operation: dict[str, Any] = {
            "summary": summary,
            "responses": {"default": {"description": "error",
                                      "content": {"application/json": {"schema": _ERROR}}}},
        }
        if (answer := _ACCEPTED.get((method, path))) is not None:
            operation["responses"]["202"] = {"description": "accepted",
                                             "content": {"application/json": {"schema": answer.model_json_schema()}}}
        if body is not None:
            operation["requestBody"] = {
                "required": True, "content": {"application/json": {"schema": body.model_json_schema()}}}
        params = [seg[1:-1] for seg in path.split("/") if seg.startswith("{")]
        if params:
            operation["parameters"] = [
                {"name": p, "in": "path", "required": True, "schema": {"type": "string"}} for p in params]
        paths.setdefault(path, {})[method] = operation
    return {"openapi": "3.1.0", "info": {"title": "mlplane", "version": "1"}, "paths": paths}
