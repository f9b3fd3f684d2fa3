"""A delete and an alias move onto the same version, frozen at each step of their protocol (see
domain/services/deletion_marks.py): the one that looks second sees the other and gives way, a move
claimed but not applied is never applied onto a version being deleted, and a dead deleter's mark
does not block the version for good."""

from __future__ import annotations

import json

import pytest

from domain.services.deletion_marks import STALE, DeletionMarks, VersionBeingDeleted
from domain.types.errors import Conflict
from domain.types.lifecycle import AliasMove
from tests.unit.conftest import World
from tests.unit.test_aliases import trained_versions

pytestmark = pytest.mark.unit
MODEL, ALIAS = "people-model", "production"


def entry_key(seq: int) -> str:
    return f"models/{MODEL}/aliases/{ALIAS}/history/{seq:010d}.json"


def mark_key(version: int) -> str:
    return f"models/{MODEL}/versions/{version}/deleting.json"


async def claim_without_settling(world: World, seq: int, from_version: int | None, to_version: int) -> None:
    """A mover that claimed history entry `seq` and has not swapped the alias document yet (or died)."""
    move = AliasMove(ALIAS, seq, from_version, to_version, world.clock.now(), "stalled", "half done", {})
    assert await world.artifacts.create(entry_key(seq), json.dumps(move.to_dict()).encode())


async def moves(world: World) -> list[tuple[int, int | None, int]]:
    return [(m.seq, m.from_version, m.to_version) for m in await world.aliases.history(MODEL, ALIAS)]


async def test_a_delete_that_finds_a_claimed_move_onto_its_version_backs_out(world: World) -> None:
    await trained_versions(world, 2)
    await world.aliases.move(MODEL, ALIAS, 1, reason="", by="a")
    await claim_without_settling(world, 2, 1, 2)
    with pytest.raises(Conflict, match=ALIAS):
        await world.retention.delete_version(MODEL, 2)
    assert mark_key(2) not in world.artifacts.blobs  # backed out: moves onto v2 are not refused
    await world.aliases.move(MODEL, ALIAS, 1, reason="back", by="b")  # settles the claimed move first
    assert await moves(world) == [(1, None, 1), (2, 1, 2), (3, 2, 1)]


async def test_a_claimed_move_onto_a_version_being_deleted_is_voided_not_applied(world: World) -> None:
    await trained_versions(world, 3)
    await world.aliases.move(MODEL, ALIAS, 1, reason="", by="a")
    await DeletionMarks(world.artifacts, world.clock).mark(MODEL, 2)  # the delete looked before the claim
    await claim_without_settling(world, 2, 1, 2)
    move = await world.aliases.move(MODEL, ALIAS, 3, reason="next", by="b")
    assert (move.seq, move.from_version) == (3, 1)  # v2 never served
    assert await moves(world) == [(1, None, 1), (3, 1, 3)]  # the voided seq is the one gap
    assert json.loads(world.artifacts.blobs[entry_key(2)])["voided"] is True


async def test_a_move_onto_a_version_being_deleted_is_refused_and_changes_nothing(world: World) -> None:
    await trained_versions(world, 2)
    await world.aliases.move(MODEL, ALIAS, 1, reason="", by="a")
    await DeletionMarks(world.artifacts, world.clock).mark(MODEL, 2)
    with pytest.raises(VersionBeingDeleted, match="being deleted"):
        await world.aliases.move(MODEL, ALIAS, 2, reason="", by="b")
    assert await world.aliases.current(MODEL, ALIAS) == 1
    assert await moves(world) == [(1, None, 1)]


async def test_a_first_move_that_is_voided_leaves_the_alias_unset(world: World) -> None:
    await trained_versions(world, 1)
    marks = DeletionMarks(world.artifacts, world.clock)
    token = await marks.mark(MODEL, 1)
    with pytest.raises(VersionBeingDeleted):
        await world.aliases.move(MODEL, ALIAS, 1, reason="", by="a")
    assert await world.aliases.aliases(MODEL) == {} and await world.aliases.current(MODEL, ALIAS) is None
    assert await moves(world) == []
    await marks.unmark(MODEL, 1, token)  # the delete backed out
    await world.aliases.move(MODEL, ALIAS, 1, reason="", by="a")
    assert await moves(world) == [(2, None, 1)]


async def test_a_voider_that_died_before_marking_its_entry_leaves_history_right(world: World) -> None:
    await trained_versions(world, 2)
    await world.aliases.move(MODEL, ALIAS, 1, reason="", by="a")
    await claim_without_settling(world, 2, 1, 2)
    voided = {"version": 1, "seq": 2, "voided": 2, "at": "2026-01-01T00:00:00Z"}  # the document swapped, no more
    await world.artifacts.put(f"models/{MODEL}/aliases/{ALIAS}.json", json.dumps(voided).encode())
    assert await moves(world) == [(1, None, 1)]
    await world.aliases.move(MODEL, ALIAS, 2, reason="", by="b")
    assert await moves(world) == [(1, None, 1), (3, 1, 2)]


async def test_a_second_delete_is_refused_until_the_first_deleters_mark_is_stale(world: World) -> None:
    await trained_versions(world, 2)
    await DeletionMarks(world.artifacts, world.clock).mark(MODEL, 1)  # a delete under way, or dead
    with pytest.raises(VersionBeingDeleted):
        await world.retention.delete_version(MODEL, 1)
    await world.clock.sleep(STALE.total_seconds())
    await world.retention.delete_version(MODEL, 1)  # its deleter died: this one finishes the job
    assert [m.version for m in await world.registry.list_versions(MODEL)] == [2]
    assert not [k for k in world.artifacts.blobs if "/versions/1/" in k]


async def test_a_rollback_onto_a_version_a_dead_deleter_marked_waits_only_until_the_mark_is_stale(
        world: World) -> None:
    await trained_versions(world, 2)
    await world.aliases.move(MODEL, ALIAS, 2, reason="", by="a")
    await DeletionMarks(world.artifacts, world.clock).mark(MODEL, 1)  # its deleter dies here
    with pytest.raises(VersionBeingDeleted):
        await world.aliases.move(MODEL, ALIAS, 1, reason="roll back", by="a")
    await world.clock.sleep(STALE.total_seconds())  # not the orphan sweep's day
    await world.aliases.move(MODEL, ALIAS, 1, reason="roll back", by="a")
    assert (await world.aliases.aliases(MODEL))[ALIAS] == 1
    with pytest.raises(Conflict, match=ALIAS):  # a delete taking the mark over now sees the alias
        await world.retention.delete_version(MODEL, 1)


async def test_the_orphan_sweep_removes_a_dead_deleters_mark_and_keeps_a_live_one(world: World) -> None:
    await trained_versions(world, 2)
    marks = DeletionMarks(world.artifacts, world.clock)
    await marks.mark(MODEL, 1)
    await world.clock.sleep(2 * 3600)  # past the grace period (1 h here) and STALE
    await marks.mark(MODEL, 2)
    removed = await world.retention.remove_orphans(MODEL)
    assert removed == [mark_key(1)]
    await world.aliases.move(MODEL, ALIAS, 1, reason="", by="a")
    with pytest.raises(VersionBeingDeleted):
        await world.aliases.move(MODEL, "staging", 2, reason="", by="a")
