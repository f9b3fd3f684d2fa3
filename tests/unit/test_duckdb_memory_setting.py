"""MLPLANE_DUCKDB_MEMORY_LIMIT: bounded by default, empty hands the choice back to DuckDB, and the
daemon's warehouse runs under whatever it says (DuckDB's own setting is read back, not ours)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from entrypoints.runtime import build_container
from entrypoints.settings import Settings

pytestmark = pytest.mark.unit
MIB = 1 << 20


def _duckdb_limit_bytes(settings: Settings) -> int:
    warehouse = build_container(settings).warehouse()
    try:
        (value,) = warehouse._cursor().execute("SELECT value FROM duckdb_settings() WHERE name = 'memory_limit'"
                                               ).fetchone()
        number, unit = str(value).split()
        return int(float(number) * {"KiB": 1 << 10, "MiB": MIB, "GiB": 1 << 30, "TiB": 1 << 40}[unit])
    finally:
        warehouse.close()


def test_by_default_the_warehouse_is_bounded(tmp_path: Path) -> None:
    assert 200 * MIB < _duckdb_limit_bytes(Settings(data_dir=tmp_path)) <= 256 * MIB


def test_a_set_limit_reaches_duckdb(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MLPLANE_DUCKDB_MEMORY_LIMIT", "64MB")
    assert 50 * MIB < _duckdb_limit_bytes(Settings(data_dir=tmp_path)) <= 64 * MIB


def test_empty_leaves_duckdb_its_own_default(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MLPLANE_DUCKDB_MEMORY_LIMIT", "")
    assert Settings(data_dir=tmp_path).duckdb_memory_limit is None
    assert _duckdb_limit_bytes(Settings(data_dir=tmp_path)) > 256 * MIB  # 80% of this machine's RAM


def test_a_limit_without_a_unit_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MLPLANE_DUCKDB_MEMORY_LIMIT", "256")
    with pytest.raises(ValidationError, match="duckdb_memory_limit"):
        Settings(data_dir=tmp_path)
