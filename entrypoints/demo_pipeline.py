"""First start: train a demo model on `demo_events`, point `production` at it, and configure the
pipeline `demo` over the stream `demo_events`, so `mlplane stream replay` shows signals at once.

Runs in the background of `mlplane up` and picks up where it stopped: a pipeline whose `production`
version exists ends it, an existing version only needs the alias, otherwise it submits one training
job and waits. The pipeline record (in Redis) can outlive the model (artifacts in an emulator that
restarted empty, or a data dir's files removed): then the model is trained again, or the pipeline
would stay paused for want of a version to serve.
"""

from __future__ import annotations

import contextlib
import logging

from domain.services.demo_data import DEMO_TABLE, FEATURES
from domain.types.errors import MlplaneError, NotFound
from domain.types.events import job_topic
from domain.types.pipelines import PipelineConfig
from domain.types.training import TrainingSpec
from entrypoints.container import Container

log = logging.getLogger(__name__)
MODEL, PIPELINE = "demo-churn", "demo"
SPEC = {"model_name": MODEL, "algorithm": "decision_tree", "task": "classification",
        "source": {"table": DEMO_TABLE, "features": list(FEATURES), "label": "label"},
        "hyperparameters": {"max_depth": 6}}
CONFIG = {"name": PIPELINE, "stream": DEMO_TABLE, "entity_key": "entity_id", "model": MODEL,
          "features": list(FEATURES), "window": {"events": 10}, "batch_size": 256, "max_wait_ms": 20,
          "rules": [{"name": "likely", "when": [{"on": "score", "op": ">", "value": 0.9}], "actions": ["notify"],
                     "cooldown_s": 60}],
          "actions": [{"name": "notify", "type": "publish", "stream": "demo_alerts"}]}


async def ensure_demo_pipeline(container: Container) -> None:
    try:
        await _ensure(container)
    except MlplaneError as exc:  # the demo is a convenience: never take the daemon down for it
        log.warning("demo pipeline not configured: %s", exc.message)


async def _ensure(container: Container) -> None:
    configured = await _pipeline_exists(container)
    if configured and await _served_version(container) is not None:
        return
    version = await _latest_version(container) or await _train(container)
    if await _served_version(container) is None:
        await container.aliases().move(MODEL, "production", version, reason="demo", by="mlplane")
    if not configured:
        await container.pipelines().save(PipelineConfig.from_dict(CONFIG))
    log.info("demo pipeline %r configured over stream %r (%s v%s)", PIPELINE, DEMO_TABLE, MODEL, version)


async def _pipeline_exists(container: Container) -> bool:
    with contextlib.suppress(NotFound):
        await container.pipeline_store().get(PIPELINE)
        return True
    return False


async def _served_version(container: Container) -> int | None:
    """The version `production` points at, if that version is still there to serve."""
    version = await container.aliases().current(MODEL, "production")
    if version is None or await container.registry().find_manifest(MODEL, version) is None:
        return None
    return version


async def _train(container: Container) -> int:
    record = await container.training().submit(TrainingSpec.from_dict(SPEC))
    async for event in container.events().subscribe(job_topic(record.id)):
        if event.is_terminal:
            if event.type != "completed":
                raise MlplaneError(f"demo training ended {event.type}: {event.data.get('message')}")
            return int(event.data["version"])
    raise MlplaneError("demo training ended without a terminal event")


async def _latest_version(container: Container) -> int | None:
    try:
        versions = await container.registry().list_versions(MODEL)
    except NotFound:
        return None
    return versions[-1].version if versions else None
