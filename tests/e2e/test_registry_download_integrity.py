"""One corrupt file of a stored version, against a real daemon over a real filesystem artifact store.

Only what holds the corrupt file is refused (that file, and the zip of the whole version), with a 500
`integrity_error` naming the file and both hashes, and one error line in the log, no traceback; its
intact neighbours still download.
"""

from __future__ import annotations

import asyncio
import hashlib
import json

import aiohttp
import pytest

from adapters.filesystem.artifact_store import FilesystemArtifactStore
from adapters.system.clock import SystemClock
from domain.services.registry import ModelRegistry, version_prefix
from tests.support.daemon import DaemonProcess, module_daemon
from tests.support.hostile_checks import log_caught_up

pytestmark = pytest.mark.e2e
MODEL = "corrupted"
FILES = {"model.bin": b"intact model bytes", "notes.txt": b"notes that will rot"}
ROTTEN = b"notes that went bad"

daemon = module_daemon("download", {"MLPLANE_SEED_DEMO": "false"})


@pytest.fixture(scope="module")
def version(daemon: DaemonProcess) -> int:
    """A version published into the daemon's own artifact store, then one of its files overwritten."""
    store = FilesystemArtifactStore(daemon.data_dir / "artifacts")
    registry = ModelRegistry(store, SystemClock())

    async def publish() -> int:
        number = await registry.claim_version(MODEL, "job-corrupt")
        await registry.publish(MODEL, number, FILES, job_id="job-corrupt", algorithm="a", spec={}, metrics={},
                               data={}, library_versions={}, created_at="2026-01-01T00:00:00Z")
        await store.put(version_prefix(MODEL, number) + "notes.txt", ROTTEN)
        return number

    return asyncio.run(publish())


def artifact_url(version: int) -> str:
    return f"/v1/models/{MODEL}/versions/{version}/artifact"


async def test_an_intact_file_downloads_beside_a_corrupt_one(http: aiohttp.ClientSession, version: int) -> None:
    async with http.get(artifact_url(version), params={"file": "model.bin"}) as reply:
        assert reply.status == 200, await reply.text()
        assert await reply.read() == FILES["model.bin"]


async def test_the_corrupt_file_and_the_zip_are_refused_naming_the_file_and_both_hashes(
        http: aiohttp.ClientSession, daemon: DaemonProcess, version: int) -> None:
    expected, actual = hashlib.sha256(FILES["notes.txt"]).hexdigest(), hashlib.sha256(ROTTEN).hexdigest()
    logged = len(daemon.output)
    for params in ({"file": "notes.txt"}, {}):
        async with http.get(artifact_url(version), params=params) as reply:
            assert reply.status == 500
            error = (await reply.json())["error"]
        assert error["code"] == "integrity_error"
        assert all(part in error["message"] for part in ("notes.txt", expected, actual))
        assert error["details"] == {"model": MODEL, "version": version, "file": "notes.txt",
                                    "expected_sha256": expected, "actual_sha256": actual}
    await log_caught_up(http, daemon)
    lines = daemon.output[logged:]
    assert not any("Traceback" in line for line in lines), "".join(lines)
    errors = [json.loads(line) for line in lines if line.startswith("{") and '"level": "error"' in line]
    assert len(errors) == 2 and all("notes.txt" in e["event"] and actual in e["event"] for e in errors), lines
