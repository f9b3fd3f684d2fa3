"""While Redis is away, the pipeline runner's config rescans log one warning for the outage (not one every
RESCAN_S), and one line when they work again."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from entrypoints import inference_runner
from entrypoints.inference_runner import PipelineRunner
from entrypoints.runtime import build_container, open_runtime
from entrypoints.settings import Settings
from tests.support.restartable_redis import RestartableRedis

pytestmark = pytest.mark.integration


async def test_a_redis_outage_is_one_warning_and_one_recovery_line(
        tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(inference_runner, "RESCAN_S", 0.05)
    caplog.set_level(logging.INFO, logger=inference_runner.__name__)
    server = RestartableRedis(tmp_path)
    server.start()
    settings = Settings(env="test", data_dir=tmp_path / "data", redis_url=server.url, seed_demo=False)
    try:
        async with open_runtime(build_container(settings)) as container:
            runner = PipelineRunner(container, record_signals=False)
            await runner.start()
            try:
                server.stop()
                await asyncio.sleep(1.0)  # about 20 rescans, every one failing
                server.start()
                await asyncio.sleep(0.5)
            finally:
                await runner.stop(1.0)
    finally:
        server.stop()
    lines = [(r.levelno, r.getMessage()) for r in caplog.records if r.name == inference_runner.__name__]
    warnings = [m for level, m in lines if level == logging.WARNING and "pipeline configs" in m]
    assert len(warnings) == 1 and "retrying quietly" in warnings[0], lines
    assert (logging.INFO, "pipeline configs refresh again") in lines
