"""Registry, retention and schedule bodies take each value in its own JSON type, against a real daemon.

A numeric string, a float such as 3.0 or a boolean where an integer is expected (or a string or boolean
where a number or a flag is) is a 422 naming the field, as the pipeline bodies answer; it is not
converted into another value, which would move an alias or set a policy the caller did not write.
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest

from adapters.filesystem.artifact_store import FilesystemArtifactStore
from adapters.system.clock import SystemClock
from domain.services.registry import ModelRegistry
from tests.support.daemon import DaemonProcess, module_daemon, request_json

pytestmark = pytest.mark.e2e
MODEL = "typed"
ALIAS = f"/v1/models/{MODEL}/aliases/production"
RETENTION = f"/v1/models/{MODEL}/retention"
SCHEDULE = f"/v1/models/{MODEL}/schedule"

daemon = module_daemon("typed_bodies", {"MLPLANE_SEED_DEMO": "false"})

WRONG_TYPES = [
    (ALIAS, {"version": "3"}, "version"),
    (ALIAS, {"version": 3.0}, "version"),
    (ALIAS, {"version": True}, "version"),
    (ALIAS, {"version": 3, "expected_version": "1"}, "expected_version"),
    (ALIAS, {"version": 3, "reason": 7}, "reason"),
    (RETENTION, {"keep_last": "3"}, "keep_last"),
    (RETENTION, {"keep_last": 3.0}, "keep_last"),
    (RETENTION, {"keep_last": True}, "keep_last"),
    (RETENTION, {"keep_days": "30"}, "keep_days"),
    (RETENTION, {"alias_days": False}, "alias_days"),
    (SCHEDULE, {"enabled": "yes"}, "enabled"),
    (SCHEDULE, {"enabled": 1}, "enabled"),
    (SCHEDULE, {"retrain": {"min_new_rows": "10"}}, "retrain.min_new_rows"),
    (SCHEDULE, {"retrain": {"min_new_rows": 10.0}}, "retrain.min_new_rows"),
    (SCHEDULE, {"retrain": {"tolerance": "0.1"}}, "retrain.tolerance"),
]


@pytest.fixture(scope="module")
def versions(daemon: DaemonProcess) -> list[int]:
    """Three versions published into the daemon's own artifact store (no training needed)."""
    registry = ModelRegistry(FilesystemArtifactStore(daemon.data_dir / "artifacts"), SystemClock())

    async def publish(job_id: str) -> int:
        number = await registry.claim_version(MODEL, job_id)
        await registry.publish(MODEL, number, {"model.bin": job_id.encode()}, job_id=job_id, algorithm="a",
                               spec={"task": "classification"}, metrics={}, data={}, library_versions={},
                               created_at="2026-01-01T00:00:00Z")
        return number

    return [asyncio.run(publish(f"job-{n}")) for n in range(3)]


@pytest.mark.parametrize(("path", "body", "field"), WRONG_TYPES, ids=[f"{b}" for _, b, _ in WRONG_TYPES])
async def test_a_value_of_the_wrong_json_type_is_a_422_naming_its_field(
        http: aiohttp.ClientSession, versions: list[int], path: str, body: dict[str, Any], field: str) -> None:
    status, answer = await request_json(http, "PUT", path, body)
    assert status == 422, answer
    assert f"{field}:" in answer["error"]["message"]
    status, aliases = await request_json(http, "GET", f"/v1/models/{MODEL}/aliases")
    assert aliases["aliases"] == {}  # a refused move moved nothing


async def test_values_of_the_right_type_still_pass(http: aiohttp.ClientSession, versions: list[int]) -> None:
    status, answer = await request_json(http, "PUT", ALIAS, {"version": versions[-1], "expected_version": None})
    assert status == 200 and answer["to_version"] == versions[-1], answer
    status, answer = await request_json(http, "PUT", RETENTION, {"keep_last": 3, "keep_days": 30, "alias_days": 7.5})
    assert status == 200 and answer == {"keep_last": 3, "keep_days": 30.0, "alias_days": 7.5}, answer
    status, answer = await request_json(http, "PUT", SCHEDULE, {"enabled": False, "retrain": {"tolerance": 0}})
    assert status == 200, answer


INGESTION = {"sources": ["/nowhere/*.csv"], "table": "t"}
INGESTION_WRONG_TYPES = [
    ("/v1/ingestions", "POST", {**INGESTION, "partitions": "2"}, "partitions"),
    ("/v1/ingestions", "POST", {**INGESTION, "partitions": 2.0}, "partitions"),
    ("/v1/ingestions", "POST", {**INGESTION, "max_reject_ratio": "0.1"}, "max_reject_ratio"),
    ("/v1/ingestions", "POST", {**INGESTION, "sources": "/nowhere/a.csv"}, "sources"),
    ("/v1/ingestion-schedules/typed", "PUT", {"cron": "0 * * * *", "enabled": "yes", "ingestion": INGESTION},
     "enabled"),
]


@pytest.mark.parametrize(("path", "method", "body", "field"), INGESTION_WRONG_TYPES,
                         ids=[f"{b}" for _, _, b, _ in INGESTION_WRONG_TYPES])
async def test_ingestion_bodies_take_each_value_in_its_own_type_too(
        http: aiohttp.ClientSession, path: str, method: str, body: dict[str, Any], field: str) -> None:
    status, answer = await request_json(http, method, path, body)
    assert status == 422 and field in answer["error"]["message"], answer
