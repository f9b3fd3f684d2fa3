"""`mlplane up` as a subprocess: a webhook action naming the API token's secret as its HMAC key is refused
at save with a 422 naming `actions[i].secret`, checked before anything else about the pipeline; another
secret name passes that check (and is then held to the others: here, no model to serve yet)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.daemon import DaemonProcess, module_daemon, request_json

pytestmark = pytest.mark.e2e
FEATURES = [f"f{i}" for i in range(8)]

daemon = module_daemon("hook-secret", {"MLPLANE_SEED_DEMO": "false"})


def config(secret: str) -> dict[str, Any]:
    actions = [{"name": "alert", "type": "publish", "stream": "alerts"},
               {"name": "hook", "type": "webhook", "url": "http://127.0.0.1:9/hook", "secret": secret}]
    return {"stream": "hooked_events", "model": "demo-churn", "features": FEATURES, "actions": actions,
            "rules": [{"name": "all", "when": [], "actions": ["alert", "hook"]}]}


@pytest.mark.parametrize("secret", ["api-token", "API_TOKEN"])
async def test_a_webhook_keyed_by_the_api_tokens_secret_is_refused(daemon: DaemonProcess, http: Any,
                                                                    secret: str) -> None:
    status, body = await request_json(http, "PUT", f"{daemon.url}/v1/pipelines/hooked", config(secret))
    assert status == 422, body
    assert body["error"]["details"]["field"] == "actions[1].secret", body
    assert "API token" in body["error"]["message"] and f"{secret!r}" in body["error"]["message"], body
    status, _ = await request_json(http, "GET", f"{daemon.url}/v1/pipelines/hooked", None)
    assert status == 404


async def test_a_webhook_keyed_by_another_secret_passes_that_check(daemon: DaemonProcess, http: Any) -> None:
    status, body = await request_json(http, "PUT", f"{daemon.url}/v1/pipelines/hooked", config("hook"))
    assert status == 422 and body["error"]["details"]["field"] == "model", body  # no demo model in this daemon
