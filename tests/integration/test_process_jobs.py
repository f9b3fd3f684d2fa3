"""Process-pool jobs stream progress to the parent in order and stop early when cancelled."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import pytest

from adapters._shared.process_jobs import ProcessJobs
from domain.types.errors import JobCancelled
from tests.support.process_job_samples import count_to

pytestmark = pytest.mark.integration


@pytest.fixture(params=["process", "thread"])
def jobs(request: pytest.FixtureRequest) -> Iterator[ProcessJobs]:
    executor = ProcessPoolExecutor(1, mp_context=get_context("forkserver")) if request.param == "process" else None
    runner = ProcessJobs(executor)
    yield runner
    runner.close()
    if executor is not None:
        executor.shutdown(cancel_futures=True)


async def test_progress_arrives_in_order_and_the_result_comes_back(jobs: ProcessJobs) -> None:
    seen: list[int] = []

    async def progress(stage: str, fraction: float, extra: Mapping[str, Any]) -> None:
        seen.append(extra["step"])

    assert await jobs.run(count_to, 5, 0.01, progress=progress) == 5
    assert seen == [1, 2, 3, 4, 5]


async def test_a_raising_progress_callback_stops_the_child_early(jobs: ProcessJobs, tmp_path: Path) -> None:
    seen: list[int] = []

    async def cancel_at_two(stage: str, fraction: float, extra: Mapping[str, Any]) -> None:
        seen.append(extra["step"])
        if extra["step"] == 2:
            raise JobCancelled("cancel requested")

    ledger = tmp_path / "ledger"
    with pytest.raises(JobCancelled):
        await jobs.run(count_to, 200, 0.05, str(ledger), progress=cancel_at_two)
    assert seen == [1, 2]
    assert 2 <= int(ledger.read_text()) < 200  # the child saw the stop and wound down early
