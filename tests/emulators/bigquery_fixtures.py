"""Helpers shared by the BigQuery emulator tests: start an emulator on a free
127.0.0.1 port in a background thread and build official clients against it."""

from __future__ import annotations

import json
import urllib.request
import uuid

from google.api_core.client_options import ClientOptions
from google.auth.credentials import AnonymousCredentials
from google.cloud import bigquery

from emulators.bigquery import BigQueryEmulator

PROJECT = "test"


def make_client(url: str) -> bigquery.Client:
    return bigquery.Client(
        project=PROJECT,
        credentials=AnonymousCredentials(),
        client_options=ClientOptions(api_endpoint=url),
    )


def start_emulator(**kwargs) -> BigQueryEmulator:
    emulator = BigQueryEmulator(host="127.0.0.1", port=0, project=PROJECT, **kwargs)
    emulator.start()
    return emulator


def unique(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


def admin(url: str, method: str, path: str, body: dict | None = None) -> dict:
    """Call an ``/_emulator`` admin endpoint with the standard library only."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        f"{url}/_emulator/{path}", data=data, method=method, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read() or b"{}")
