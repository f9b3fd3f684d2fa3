"""Retention keeps what the policy says, never an aliased or recent version, and cleans orphans."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.services.retention_policy import plan_retention
from domain.types.errors import Conflict
from domain.types.lifecycle import RetentionPolicy, VersionFacts
from tests.unit.conftest import World
from tests.unit.test_aliases import trained_versions

pytestmark = pytest.mark.unit
NOW = datetime(2026, 6, 1, tzinfo=UTC)

versions_strategy = st.lists(st.floats(min_value=0, max_value=400), min_size=0, max_size=30).map(
    lambda ages: [VersionFacts(i + 1, NOW - timedelta(days=age), 100 + i) for i, age in enumerate(ages)])


@settings(max_examples=300, deadline=None)
@given(versions=versions_strategy, aliased_picks=st.sets(st.integers(1, 30)), served_picks=st.sets(st.integers(1, 30)),
       keep_last=st.integers(1, 10), keep_days=st.floats(0, 200), alias_days=st.floats(0, 200))
def test_the_plan_matches_the_policy_and_never_deletes_served_or_recent_versions(
    versions, aliased_picks, served_picks, keep_last, keep_days, alias_days
) -> None:
    aliased = {v for v in aliased_picks if v <= len(versions)}
    served = {v: [f"p{v}"] for v in served_picks if v <= len(versions)}  # what pipelines serve, aliased or not
    policy = RetentionPolicy(keep_last, keep_days, alias_days)
    plan = plan_retention("m", versions, aliased, policy, NOW, served)

    newest = {v.version for v in sorted(versions, key=lambda v: -v.version)[:keep_last]}
    young = {v.version for v in versions if v.created_at > NOW - timedelta(days=keep_days)}
    assert set(plan.keep) == newest | young | aliased | set(served)
    assert set(plan.delete) == {v.version for v in versions} - set(plan.keep)
    assert not set(plan.delete) & (aliased | set(served))
    assert all(plan.reasons[v] == f"served by pipeline p{v}" for v in served)
    assert plan.bytes_reclaimed == sum(v.bytes for v in versions if v.version in plan.delete)


async def test_apply_deletes_old_unaliased_versions_and_keeps_the_rest(world: World) -> None:
    await trained_versions(world, 4)
    await world.aliases.move("people-model", "production", 1, reason="", by="a")
    await world.retention.set_policy("people-model", RetentionPolicy(keep_last=1, keep_days=0, alias_days=0))
    plan, _orphans = await world.retention.apply("people-model")
    assert plan.delete == (2, 3) and plan.keep == (1, 4)
    assert [m.version for m in await world.registry.list_versions("people-model")] == [1, 4]
    assert not [k for k in world.artifacts.blobs if "/versions/2/" in k or "/versions/3/" in k]


async def test_deleting_an_aliased_version_is_refused(world: World) -> None:
    await trained_versions(world, 1)
    await world.aliases.move("people-model", "staging", 1, reason="", by="a")
    with pytest.raises(Conflict, match="staging"):
        await world.retention.delete_version("people-model", 1)


async def test_a_half_deleted_version_is_unlisted_and_the_next_run_finishes_it(world: World) -> None:
    await trained_versions(world, 2)
    del world.artifacts.blobs["models/people-model/versions/1/manifest.json"]  # the delete died here
    assert [m.version for m in await world.registry.list_versions("people-model")] == [2]
    await world.clock.sleep(2 * 3600)  # past the orphan grace period
    _plan, removed = await world.retention.apply("people-model")
    assert "models/people-model/versions/1/claim.json" in removed
    assert not [k for k in world.artifacts.blobs if "/versions/1/" in k]


async def test_orphans_younger_than_the_grace_period_are_left_alone(world: World) -> None:
    await trained_versions(world, 1)
    await world.artifacts.put("models/people-model/versions/1/leftover.tmp", b"x")
    claim = {"job_id": "running", "claimed_at": world.clock.now().isoformat()}
    await world.artifacts.create("models/people-model/versions/2/claim.json", json.dumps(claim).encode())
    assert await world.retention.remove_orphans("people-model") == []
    await world.clock.sleep(2 * 3600)
    removed = await world.retention.remove_orphans("people-model")
    assert set(removed) == {"models/people-model/versions/1/leftover.tmp", "models/people-model/versions/2/claim.json"}
