"""MLPLANE_EMBEDDED_REDIS_PORT: unset leaves the choice to the server (its last port, else a free one); a
port outside 1-65535 is refused at startup, naming the setting (0 would start Redis with no TCP listener)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from entrypoints.settings import Settings

pytestmark = pytest.mark.unit


def test_unset_leaves_the_port_to_the_server(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MLPLANE_EMBEDDED_REDIS_PORT", raising=False)
    assert Settings().embedded_redis_port is None


def test_a_port_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLPLANE_EMBEDDED_REDIS_PORT", "6390")
    assert Settings().embedded_redis_port == 6390


@pytest.mark.parametrize("port", ["0", "65536", "-1"])
def test_a_port_out_of_range_is_refused(monkeypatch: pytest.MonkeyPatch, port: str) -> None:
    monkeypatch.setenv("MLPLANE_EMBEDDED_REDIS_PORT", port)
    with pytest.raises(ValidationError, match="embedded_redis_port"):
        Settings()
