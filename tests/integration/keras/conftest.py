"""Fixtures of the KerasModelBackend suites: one pool worker for the whole package, so TensorFlow
is imported once (~3 s) for both files; the test process itself never imports it."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context

import pytest

from adapters.keras.backend import KerasModelBackend


@pytest.fixture(scope="package")
def pool() -> Iterator[ProcessPoolExecutor]:
    executor = ProcessPoolExecutor(1, mp_context=get_context("forkserver"))
    yield executor
    executor.shutdown(cancel_futures=True)


@pytest.fixture(scope="package")
def backend(pool: ProcessPoolExecutor) -> Iterator[KerasModelBackend]:
    instance = KerasModelBackend(pool)
    yield instance
    instance.close()
