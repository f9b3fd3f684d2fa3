"""A webhook action may not sign with the API token's secret: whoever can configure pipelines would get
HMACs keyed by the admin credential for any body. Refused at save, naming the action's field, under any
spelling the secret providers read as the same secret (MLPLANE_SECRET_API_TOKEN serves them all)."""

from __future__ import annotations

import pytest

from domain.services.pipelines import PipelineService
from domain.types.errors import InvalidSpec
from tests.fakes.inference import InMemoryPipelineStore
from tests.support.inference_world import InferenceWorld, inference_world, pipeline_config

pytestmark = pytest.mark.unit
PUBLISH = {"name": "alert", "type": "publish", "stream": "alerts"}


async def service() -> tuple[PipelineService, InferenceWorld]:
    world = await inference_world()
    return PipelineService(InMemoryPipelineStore(), world.registry, world.aliases, world.signals, world.streams,
                           world.dlq), world


def signed_with(secret: str) -> dict[str, object]:
    return {"actions": [PUBLISH, {"name": "hook", "type": "webhook", "url": "http://127.0.0.1:1/hook",
                                  "secret": secret}]}


@pytest.mark.parametrize("secret", ["api-token", "API_TOKEN", "Api-Token"])
async def test_a_webhook_signing_with_the_api_tokens_secret_is_refused_naming_the_field(secret: str) -> None:
    pipelines, world = await service()
    with pytest.raises(InvalidSpec) as refused:
        await pipelines.save(pipeline_config(**signed_with(secret)), api_token_secret="api-token")
    assert refused.value.details["field"] == "actions[1].secret"
    assert f"{secret!r}" in refused.value.message and "API token" in refused.value.message
    assert list(await pipelines.configs()) == [] and world.streams.groups == {}  # nothing was saved


async def test_another_secret_is_saved_and_so_is_api_token_when_the_token_is_another_secret() -> None:
    pipelines, _ = await service()
    saved = await pipelines.save(pipeline_config(**signed_with("hook")), api_token_secret="api-token")
    assert saved.actions[1].params["secret"] == "hook"
    await pipelines.save(pipeline_config(**signed_with("api-token")), api_token_secret="admin-key")
    with pytest.raises(InvalidSpec, match="'admin_key'"):
        await pipelines.save(pipeline_config(**signed_with("admin_key")), api_token_secret="admin-key")

