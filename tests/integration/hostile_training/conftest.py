"""One in-process container (DuckDB, real Redis, arq, one fit process) per module of hostile-data tests."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from entrypoints.container import Container
from entrypoints.settings import Settings
from tests.support.runtime import running_container


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def container(tmp_path_factory: pytest.TempPathFactory, redis_url: str) -> AsyncIterator[Container]:
    settings = Settings(data_dir=tmp_path_factory.mktemp("hostile") / "data", redis_url=redis_url,
                        env=f"t{uuid.uuid4().hex[:8]}", ingestion_processes=0, seed_demo=False, fit_processes=1)
    async with running_container(settings, queues=("training",)) as built:
        yield built
