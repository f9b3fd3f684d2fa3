"""A stream entry some client XADDed without a `data` field is dead-lettered saying so (real Redis),
not as "bad JSON" of an empty text, and the stream keeps flowing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from adapters.redis_streams.keys import Keys
from tests.support.inference_stack import Stack, drain, pipeline, published_stack

pytestmark = pytest.mark.integration


@pytest.fixture
async def stack(redis_client: aioredis.Redis, namespace: str, tmp_path: Path) -> Stack:
    return await published_stack(redis_client, namespace, tmp_path)


@pytest.mark.parametrize("fields", [{"other": "x"}, {"other": "x", b"\xff": "y"}])
async def test_an_entry_without_a_data_field_is_dead_lettered_naming_the_missing_field(
        stack: Stack, fields: dict[str | bytes, str]) -> None:
    config = await stack.pipelines.save(pipeline())
    await stack.redis.xadd(Keys(stack.namespace).stream(config.stream), fields)
    await stack.producer.append(config.stream, [json.dumps({"entity_id": "a", "f0": 1, "f1": 2, "f2": 3})])
    await drain(stack.service(config, "c1"))
    [letter] = await stack.dead_letters.list("p1", "event")
    assert "no 'data' field" in letter.cause and "other" in letter.cause and "JSON" not in letter.cause.split(":")[0]
    assert len(await stack.signal_rows("p1")) == 1
