"""The daemon as a subprocess: a training job driven over HTTP and WebSocket to a loadable model."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import numpy as np
import pytest

from adapters.sklearn.backend import SklearnModelBackend
from domain.types.events import event_id_key
from tests.support.daemon import DaemonProcess, module_daemon
from tests.support.ws_client import DEMO_SPEC, collect_events, submit

pytestmark = pytest.mark.e2e
ORDER = ["queued", "started", "data_loaded", "evaluated", "artifact_stored", "completed"]


daemon = module_daemon("daemon", {"MLPLANE_DEMO_ROWS": "20000"})


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as client:
        yield client


async def test_a_job_trains_a_model_that_loads_and_predicts(daemon: DaemonProcess, session) -> None:
    accepted = await submit(session, daemon.url)
    assert accepted["status"] == "queued" and accepted["events_url"].endswith("/events")
    events = await collect_events(session, daemon.url, accepted["job_id"])

    types = [e["type"] for e in events]
    assert [t for t in types if t in ORDER] == ORDER, types
    assert [e["id"] for e in events] == sorted(events and [e["id"] for e in events], key=event_id_key)
    version = events[-1]["data"]["version"]
    async with session.get(f"{daemon.url}/v1/training-jobs/{accepted['job_id']}") as response:
        assert (await response.json())["state"] == "completed"
    async with session.get(f"{daemon.url}/v1/models/demo-churn/versions/{version}") as response:
        manifest = await response.json()
    assert manifest["job_id"] == accepted["job_id"] and manifest["data"]["rows_read"] == 20000
    model = await _load(daemon.data_dir, manifest)
    predictions = model.predict(np.zeros((3, 8)))
    assert predictions.shape == (3,) and set(predictions) <= {0, 1}


async def test_resuming_with_after_has_no_gap_and_no_repeat(daemon: DaemonProcess, session) -> None:
    job_id = (await submit(session, daemon.url))["job_id"]
    head = await collect_events(session, daemon.url, job_id, stop_after=3)
    tail = await collect_events(session, daemon.url, job_id, after=head[-1]["id"])
    everything = await collect_events(session, daemon.url, job_id)
    assert head + tail == everything


async def test_200_websocket_clients_all_receive_every_event(daemon: DaemonProcess, session) -> None:
    job_id = (await submit(session, daemon.url))["job_id"]
    results = await asyncio.gather(*(collect_events(session, daemon.url, job_id) for _ in range(200)))
    reference = await collect_events(session, daemon.url, job_id)
    assert reference[-1]["type"] == "completed"
    assert all(result == reference for result in results)


async def test_listings_show_tables_algorithms_and_models(daemon: DaemonProcess, session) -> None:
    async with session.get(f"{daemon.url}/v1/tables") as response:
        tables = {t["name"]: t for t in (await response.json())["tables"]}
    assert {c["name"] for c in tables["demo_events"]["columns"]} >= {"entity_id", "ts", "f0", "label"}
    async with session.get(f"{daemon.url}/v1/algorithms") as response:
        (tree,) = [a for a in (await response.json())["algorithms"] if a["name"] == "decision_tree"]
    max_depth = tree["hyperparameters"]["classification"]["properties"]["max_depth"]
    assert {"type": "integer", "minimum": 1, "maximum": 128} in max_depth["anyOf"]
    await collect_events(session, daemon.url, (await submit(session, daemon.url))["job_id"])
    async with session.get(f"{daemon.url}/v1/models") as response:
        assert "demo-churn" in {m["name"] for m in (await response.json())["models"]}
    async with session.get(f"{daemon.url}/readyz") as response:
        assert (await response.json())["checks"] == {"redis": "ok", "warehouse": "ok", "artifacts": "ok"}
    async with session.get(f"{daemon.url}/metrics") as response:
        assert "mlplane_training_jobs_submitted_total" in await response.text()


async def _load(data_dir: Path, manifest: dict) -> object:
    folder = data_dir / "artifacts" / "models" / "demo-churn" / "versions" / str(manifest["version"])
    files = {}
    for entry in manifest["files"]:
        data = (folder / entry["name"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"]
        files[entry["name"]] = data
    return await SklearnModelBackend().deserialize(manifest["algorithm"], files)


BAD_SPECS = [
    ({**DEMO_SPEC, "algorithm": "quantum_forest"}, 422, "unknown algorithm"),
    ({**DEMO_SPEC, "model_name": "../../etc"}, 422, "model_name"),
    ({**DEMO_SPEC, "source": {**DEMO_SPEC["source"], "features": ["f0", "nope"]}}, 422, "nope"),
    ({**DEMO_SPEC, "source": {**DEMO_SPEC["source"], "label": "missing"}}, 422, "missing"),
    ({**DEMO_SPEC, "source": {**DEMO_SPEC["source"], "features": ["entity_id"]}}, 422, "not numeric"),
    ({**DEMO_SPEC, "source": {**DEMO_SPEC["source"], "table": "x; drop table y"}}, 422, "source.table"),
    ({**DEMO_SPEC, "hyperparameters": {"max_depth": -1}}, 422, "max_depth"),
    ({**DEMO_SPEC, "task": "clustering"}, 422, "task"),
]


@pytest.mark.parametrize(("body", "status", "mentions"), BAD_SPECS)
async def test_bad_specs_get_a_4xx_naming_what_to_fix(daemon, session, body, status, mentions) -> None:
    async with session.post(f"{daemon.url}/v1/training-jobs", json=body) as response:
        payload = await response.json()
    assert response.status == status
    assert mentions in payload["error"]["message"] + str(payload["error"]["details"])


async def test_malformed_and_oversize_bodies_get_clear_errors(daemon: DaemonProcess, session) -> None:
    headers = {"Content-Type": "application/json"}
    async with session.post(f"{daemon.url}/v1/training-jobs", data=b"{not json", headers=headers) as response:
        assert response.status == 422 and "malformed JSON" in (await response.json())["error"]["message"]
    huge = b'{"x": "' + b"a" * (2 << 20) + b'"}'
    async with session.post(f"{daemon.url}/v1/training-jobs", data=huge, headers=headers) as response:
        assert response.status == 413 and "error" in await response.json()


async def test_unknown_things_answer_404_in_the_error_envelope(daemon: DaemonProcess, session) -> None:
    for path in ("/v1/training-jobs/job_nope", "/v1/training-jobs/job_nope/events", "/v1/models/ghost/versions",
                 "/v1/nothing-here"):
        async with session.get(daemon.url + path) as response:
            assert response.status == 404, path
            assert set((await response.json())["error"]) == {"code", "message", "details"}
    async with session.get(f"{daemon.url}/v1/training-jobs/x/events?after=garbage") as response:
        assert response.status == 422
