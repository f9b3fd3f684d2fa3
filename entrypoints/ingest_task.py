"""`mlplane ingest-task --plan PLAN`: stage this task's share of an ingestion's partitions (Cloud Run Jobs).

Cloud Run runs CLOUD_RUN_TASK_COUNT copies of the job, each with its CLOUD_RUN_TASK_INDEX; task i
takes partitions i, i+count, i+2*count... The plan itself is read from the job store (an ingestion
with dispatch 'external' is planned before its 202, so the tasks may start at once), so PLAN is
just the ingestion id, or a JSON file holding it (the body of `GET /v1/ingestions/{id}`). The
last partition to finish enqueues the commit on the `commits` queue (served by the daemon or a worker).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from pathlib import Path

from domain.types.partitions import planned_partitions
from entrypoints.runtime import build_container, open_runtime
from entrypoints.settings import Settings


def ingest_task_command(args: argparse.Namespace, settings: Settings) -> int:
    if not settings.redis_url:
        print("mlplane: ingest-task needs MLPLANE_REDIS_URL, the Redis the daemon and its workers share",
              file=sys.stderr)
        return 2
    index = int(os.environ.get("CLOUD_RUN_TASK_INDEX", "0"))
    count = int(os.environ.get("CLOUD_RUN_TASK_COUNT", "1"))
    if not 0 <= index < count:
        print(f"mlplane: CLOUD_RUN_TASK_INDEX {index} is outside 0..{count - 1}", file=sys.stderr)
        return 2
    ingestion_id = plan_id(args.plan)
    done = asyncio.run(_run(settings, ingestion_id, index, count))
    if done is None:
        print(f"mlplane: ingestion {ingestion_id} has no plan: only ingestions submitted with dispatch 'external' "
              "are planned before the 202 and run by ingest-task; the queue's workers run the others", file=sys.stderr)
        return 2
    print(f"task {index}/{count}: staged partitions {done} of ingestion {ingestion_id}", flush=True)
    return 0


def plan_id(plan: str) -> str:
    path = Path(plan)
    if not path.is_file():
        return plan
    raw = json.loads(path.read_text())
    return str(raw.get("ingestion_id") or raw["id"])


async def _run(settings: Settings, ingestion_id: str, index: int, count: int) -> list[int] | None:
    container = build_container(settings)
    async with open_runtime(container):
        record = await container.ingestion().get(ingestion_id)
        if (partitions := planned_partitions(record.spec)) is None:
            return None
        mine = list(range(index, partitions, count))
        for partition in mine:
            await container.partition_stager().run_partition(ingestion_id, partition)
        return mine
