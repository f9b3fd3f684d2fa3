"""pytest plugin: both Google API emulators for the session, on loopback, in background threads."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from emulators.bigquery.server import BigQueryEmulator
from emulators.gcs.server import GcsEmulatorThread


@dataclass(frozen=True)
class Emulators:
    gcs_url: str
    bigquery_url: str

    def profile_env(self, env_name: str) -> dict[str, str]:
        """Settings that point an mlplane process at these emulators, namespaced by `env_name`."""
        return {"MLPLANE_PROFILE": "emulated", "MLPLANE_ENV": env_name,
                "MLPLANE_GCS_EMULATOR_URL": self.gcs_url, "MLPLANE_BIGQUERY_EMULATOR_URL": self.bigquery_url}

    def set_faults(self, faults: dict[str, Any]) -> None:
        for url in (self.gcs_url, self.bigquery_url):
            _admin(url, "POST", faults)

    def clear_faults(self) -> None:
        for url in (self.gcs_url, self.bigquery_url):
            _admin(url, "DELETE", None)


def _admin(url: str, method: str, body: dict[str, Any] | None) -> None:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(f"{url}/_emulator/faults", data=data, method=method,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status < 300


@pytest.fixture(scope="session")
def emulators() -> Iterator[Emulators]:
    gcs = GcsEmulatorThread(port=0)
    gcs_url = gcs.start()
    bigquery = BigQueryEmulator(port=0, gcs_url=gcs_url)
    try:
        yield Emulators(gcs_url, bigquery.start())
    finally:
        bigquery.stop()
        gcs.stop()
