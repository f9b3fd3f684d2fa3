"""The registry over HTTP on a real daemon: a DELETE of a version and a PUT moving an alias onto it, sent
together (or the delete from another process on the same artifact store), never both succeed and never
leave the alias on a deleted version; alias listings and retention policies of an unknown model are a 404;
a model's retention policy reads back, saying whether it is the stored one or the defaults."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import aiohttp
import pytest

from adapters.filesystem.artifact_store import FilesystemArtifactStore
from adapters.system.clock import SystemClock
from domain.services.aliases import AliasService
from domain.services.registry import ModelRegistry
from domain.services.retention import RetentionService
from domain.types.errors import Conflict
from domain.types.lifecycle import RetentionPolicy
from tests.support.daemon import DaemonProcess, module_daemon, request_json

pytestmark = pytest.mark.e2e
MODEL = "race"

daemon = module_daemon("registry-races", {"MLPLANE_SEED_DEMO": "false"})


def local_services(daemon: DaemonProcess) -> tuple[ModelRegistry, RetentionService]:
    """This test process's own registry on the daemon's artifact store: a second process writing there."""
    store, clock = FilesystemArtifactStore(daemon.data_dir / "artifacts"), SystemClock()
    registry = ModelRegistry(store, clock)
    return registry, RetentionService(store, registry, AliasService(store, registry, clock), clock,
                                      RetentionPolicy(), timedelta(hours=1))


async def publish(registry: ModelRegistry, count: int) -> list[int]:
    versions = []
    for index in range(count):
        version = await registry.claim_version(MODEL, f"job-{index}")
        await registry.publish(MODEL, version, {"model.bin": b"x"}, job_id=f"job-{index}", algorithm="decision_tree",
                               spec={"source": {"features": ["a"]}}, metrics={}, data={}, library_versions={},
                               created_at="2026-01-01T00:00:00Z")
        versions.append(version)
    return versions


async def over_http(http: aiohttp.ClientSession, version: int) -> tuple[int, int]:
    async def delete() -> int:
        async with http.delete(f"/v1/models/{MODEL}/versions/{version}") as reply:
            return reply.status

    async def move() -> int:
        async with http.put(f"/v1/models/{MODEL}/aliases/production", json={"version": version}) as reply:
            return reply.status

    return await asyncio.gather(delete(), move())


async def from_this_process(http: aiohttp.ClientSession, retention: RetentionService, version: int) -> tuple[int, int]:
    async def delete() -> int:
        try:
            await retention.delete_version(MODEL, version)
        except Conflict:
            return 409
        return 200

    async def move() -> int:
        async with http.put(f"/v1/models/{MODEL}/aliases/production", json={"version": version}) as reply:
            return reply.status

    return await asyncio.gather(delete(), move())


async def test_a_delete_and_a_move_sent_together_never_both_succeed(http, daemon: DaemonProcess) -> None:
    registry, retention = local_services(daemon)
    for index, version in enumerate(await publish(registry, 16)):
        deleted, moved = await (over_http(http, version) if index % 2 else from_this_process(http, retention, version))
        assert deleted in (200, 409) and moved in (200, 404, 409), (version, deleted, moved)
        assert (deleted == 200) != (moved == 200), f"v{version}: DELETE {deleted}, PUT {moved}"
        status, aliases = await request_json(http, "GET", f"/v1/models/{MODEL}/aliases")
        if "production" in aliases["aliases"]:
            status, _manifest = await request_json(http, "GET", f"/v1/models/{MODEL}/versions/"
                                                                f"{aliases['aliases']['production']}")
            assert status == 200, f"production points to a deleted version after v{version}"


async def test_alias_listing_and_history_of_an_unknown_model_are_a_404(http) -> None:
    for path in ("/v1/models/nosuch/aliases", "/v1/models/nosuch/aliases/production/history",
                 "/v1/models/nosuch/aliases/production/history?at=2026-01-01T00:00:00Z", "/v1/models/nosuch/retention"):
        status, body = await request_json(http, "GET", path)
        assert status == 404 and body["error"]["message"] == "no model named 'nosuch'", path


async def test_a_retention_policy_reads_back_saying_whether_it_was_set(http, daemon: DaemonProcess) -> None:
    await publish(local_services(daemon)[0], 1)
    status, body = await request_json(http, "GET", f"/v1/models/{MODEL}/retention")
    assert status == 200 and body == {"model": MODEL, "source": "default",
                                      "policy": {"keep_last": 5, "keep_days": 30.0, "alias_days": 30.0}}
    policy = {"keep_last": 2, "keep_days": 1.5, "alias_days": 0}
    assert (await request_json(http, "PUT", f"/v1/models/{MODEL}/retention", policy))[0] == 200
    status, body = await request_json(http, "GET", f"/v1/models/{MODEL}/retention")
    assert status == 200 and body == {"model": MODEL, "source": "stored", "policy": policy}
