"""Helpers for driving the GCS emulator with the official client."""

from __future__ import annotations

import uuid
from typing import Any

import requests
from google.auth.credentials import AnonymousCredentials
from google.cloud import storage
from google.cloud.storage.retry import DEFAULT_RETRY

# The client's own retry policy (same predicate), with short sleeps so tests stay fast.
FAST_RETRY = DEFAULT_RETRY.with_delay(initial=0.01, maximum=0.1, multiplier=2.0).with_timeout(30.0)
HTTP_TIMEOUT = 10


def make_client(url: str) -> storage.Client:
    return storage.Client(project="test", credentials=AnonymousCredentials(),
                          client_options={"api_endpoint": url})


def unique_name(prefix: str = "t") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def set_faults(url: str, **config: Any) -> dict[str, Any]:
    response = requests.post(f"{url}/_emulator/faults", json=config, timeout=HTTP_TIMEOUT)
    response.raise_for_status()
    return response.json()


def get_faults(url: str) -> dict[str, Any]:
    response = requests.get(f"{url}/_emulator/faults", timeout=HTTP_TIMEOUT)
    response.raise_for_status()
    return response.json()


def clear_faults(url: str) -> None:
    requests.delete(f"{url}/_emulator/faults", timeout=HTTP_TIMEOUT).raise_for_status()
