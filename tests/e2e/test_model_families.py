"""Every model family trains through the daemon to a version with a verified ONNX export, and a
running fit stops at its next epoch when the job is cancelled."""

from __future__ import annotations

import asyncio
import sys

import pytest

from tests.support.daemon import module_daemon
from tests.support.ws_client import DEMO_SPEC, collect_events, submit

pytestmark = pytest.mark.e2e
FAMILIES = [
    ("random_forest", {"n_estimators": 20, "max_depth": 6}),
    ("gradient_boosting", {"max_iter": 30}),
    ("keras_mlp", {"hidden_layers": [16], "epochs": 3, "batch_size": 512}),
]


daemon = module_daemon("families", {"MLPLANE_DEMO_ROWS": "8000"})


@pytest.mark.parametrize(("algorithm", "hyperparameters"), FAMILIES)
async def test_each_family_trains_to_a_version_with_a_verified_onnx_file(http, daemon, algorithm, hyperparameters):
    spec = {**DEMO_SPEC, "model_name": f"fam-{algorithm.replace('_', '-')}", "algorithm": algorithm,
            "hyperparameters": hyperparameters}
    job_id = (await submit(http, daemon.url, spec))["job_id"]
    events = await collect_events(http, daemon.url, job_id, timeout=170)
    assert events[-1]["type"] == "completed", events[-1]
    fractions = [e["data"]["fraction"] for e in events if e["type"] == "progress" and e["data"]["stage"] == "fit"]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    async with http.get(f"/v1/models/{spec['model_name']}/versions/1") as response:
        manifest = await response.json()
    assert "model.onnx" in {f["name"] for f in manifest["files"]}
    assert manifest["extra"]["exports"]["onnx"]["max_abs_diff"] <= 1e-5
    assert {"accuracy", "roc_auc", "f1"} <= set(manifest["metrics"])


async def test_keras_epochs_stream_losses_and_cancel_stops_the_fit(http, daemon) -> None:
    spec = {**DEMO_SPEC, "model_name": "fam-cancel", "algorithm": "keras_mlp",
            "hyperparameters": {"hidden_layers": [32], "epochs": 400, "batch_size": 64}}
    job_id = (await submit(http, daemon.url, spec))["job_id"]
    seen: list[dict] = []
    ws_url = daemon.url.replace("http", "ws", 1) + f"/v1/training-jobs/{job_id}/events"
    async with http.ws_connect(ws_url) as socket:
        async with asyncio.timeout(150):
            async for message in socket:
                event = message.json()
                seen.append(event)
                if event["type"] == "progress" and event["data"].get("epoch") == 2:
                    async with http.delete(f"/v1/training-jobs/{job_id}") as response:
                        assert response.status == 202
                if event["type"] in ("completed", "failed", "cancelled"):
                    break
    epochs = [e["data"]["epoch"] for e in seen if e["type"] == "progress" and "epoch" in e["data"]]
    assert seen[-1]["type"] == "cancelled", seen[-1]
    assert epochs[:2] == [1, 2] and max(epochs) < 400
    assert "loss" in next(e["data"] for e in seen if e["type"] == "progress" and "epoch" in e["data"])
    assert "tensorflow" not in sys.modules  # the test process never imported it either
