"""scikit-learn fits in a real process pool: progress per step of trees, early stop on cancel,
and saved files that load and predict the same in a fresh interpreter."""

from __future__ import annotations

import queue
import subprocess
import sys
from collections.abc import Iterator, Mapping
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from adapters._shared.process_jobs import ProcessJobs
from adapters.sklearn.backend import SklearnModelBackend
from domain.types.dataset import Dataset
from domain.types.errors import JobCancelled
from domain.types.training import SourceSpec, Task, TrainingSpec

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]
COLUMNS = tuple(f"f{i}" for i in range(8))
LOAD_AND_PREDICT = """
import asyncio, sys
from pathlib import Path
import numpy as np
from adapters.sklearn.backend import SklearnModelBackend
folder = Path(sys.argv[1])
for algorithm in sys.argv[2:]:
    files = {p.name: p.read_bytes() for p in (folder / algorithm).iterdir()}
    model = asyncio.run(SklearnModelBackend().deserialize(algorithm, files))
    np.save(folder / f"{algorithm}.npy", model.predict(np.load(folder / "x.npy")))
"""


@pytest.fixture(scope="module")
def pool() -> Iterator[ProcessPoolExecutor]:
    executor = ProcessPoolExecutor(1, mp_context=get_context("forkserver"))
    yield executor
    executor.shutdown(cancel_futures=True)


@pytest.fixture
def backend(pool: ProcessPoolExecutor) -> Iterator[SklearnModelBackend]:
    instance = SklearnModelBackend(pool)
    yield instance
    instance.close()


def training(rows: int) -> Dataset:
    rng = np.random.default_rng(7)
    x = rng.normal(size=(rows, len(COLUMNS)))
    return Dataset(x, x[:, 0] * 3 + np.sin(x[:, 1]) + rng.normal(scale=0.1, size=rows), COLUMNS)


def forest(trees: int, algorithm: str = "random_forest") -> TrainingSpec:
    size = {"n_estimators": trees} if algorithm == "random_forest" else {"max_iter": trees}
    return TrainingSpec("m", algorithm, Task.REGRESSION, SourceSpec("t", COLUMNS, "y"), size)


async def test_a_forest_reports_growing_progress_per_step_of_trees(backend: SklearnModelBackend) -> None:
    reports: list[tuple[float, Mapping[str, Any]]] = []

    async def progress(stage: str, fraction: float, extra: Mapping[str, Any]) -> None:
        reports.append((fraction, extra))

    model = await backend.fit(forest(40), training(2_000), progress)
    assert [extra["trees"] for _, extra in reports] == [10, 20, 30, 40]
    assert [fraction for fraction, _ in reports] == [0.25, 0.5, 0.75, 1.0]
    assert len(model.estimators_) == 40 and model.get_params()["warm_start"] is False  # type: ignore[attr-defined]


async def test_cancelling_from_the_first_report_stops_the_child_early(
    backend: SklearnModelBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    channels: list[tuple[Any, Any]] = []
    opened = ProcessJobs._channel
    monkeypatch.setattr(ProcessJobs, "_channel", lambda self: channels.append(opened(self)) or channels[-1])
    delivered: list[int] = []

    async def cancel_at_once(stage: str, fraction: float, extra: Mapping[str, Any]) -> None:
        delivered.append(extra["trees"])
        raise JobCancelled("cancel requested")

    with pytest.raises(JobCancelled):
        await backend.fit(forest(300), training(20_000), cancel_at_once)
    # Every report the child made is either delivered or still queued: together they show how far it got.
    made = delivered + [extra["trees"] for _, _, extra in _drain(channels[0][0])]
    assert delivered == [10]
    assert made == list(range(10, made[-1] + 1, 10)) and made[-1] < 300


async def test_saved_models_predict_the_same_in_a_fresh_process(backend: SklearnModelBackend, tmp_path: Path) -> None:
    data = training(3_000)
    np.save(tmp_path / "x.npy", data.features)
    expected = {}
    for algorithm in ("random_forest", "gradient_boosting"):
        model = await backend.fit(forest(20, algorithm), data, _ignore)
        expected[algorithm] = await backend.predict(model, data.features)
        (tmp_path / algorithm).mkdir()
        for name, content in (await backend.serialize(model, data.features[:200])).files.items():
            (tmp_path / algorithm / name).write_bytes(content)
    command = [sys.executable, "-c", LOAD_AND_PREDICT, str(tmp_path), *expected]
    subprocess.run(command, check=True, timeout=60, capture_output=True)
    for algorithm, predictions in expected.items():
        assert np.array_equal(np.load(tmp_path / f"{algorithm}.npy"), predictions)


async def _ignore(stage: str, fraction: float, extra: Mapping[str, Any]) -> None:
    return None


def _drain(messages: Any) -> list[tuple[str, float, dict[str, Any]]]:
    drained = []
    while True:
        try:
            drained.append(messages.get_nowait())
        except queue.Empty:
            return drained
