"""MLPLANE_WORKER_LEASE_SECONDS: refused outside its bounds with a message naming it, and handed to the workers."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from adapters.arq.leases import DEFAULT_TTL_S
from entrypoints.runtime import build_container
from entrypoints.settings import Settings
from entrypoints.workers import build_worker

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("value", ["1.5", "3601", "-15", "nan", "inf"])
def test_a_lease_out_of_bounds_is_refused_naming_the_variable(
    value: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("MLPLANE_WORKER_LEASE_SECONDS", value)
    with pytest.raises(ValidationError, match="MLPLANE_WORKER_LEASE_SECONDS must be between 2 and 3600 seconds"):
        Settings(data_dir=tmp_path)


def test_by_default_a_lease_is_the_leases_own_default(tmp_path: Path) -> None:
    assert Settings(data_dir=tmp_path).worker_lease_seconds == DEFAULT_TTL_S == 15


@pytest.mark.parametrize("queue", ["ingestion", "actions"])
def test_the_lease_reaches_the_worker_of_each_kind(queue: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MLPLANE_WORKER_LEASE_SECONDS", "2.5")
    container = build_container(Settings(data_dir=tmp_path))
    container.redis_url.override("redis://127.0.0.1:1")  # never connected: building a worker opens nothing
    assert build_worker(container, queue).lease_s == 2.5
