"""Fault injection in the GCS emulator driven by the official client: a random error rate absorbed by
the client's retries, exactly the n-th request failing, connections dropped mid-upload, and admin
endpoints that are never faulted. Each test gets its own emulator, so faults never leak into other
tests."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator

import pytest
import requests
from google.api_core import exceptions as gexc

from emulators.gcs import GcsEmulatorThread
from tests.emulators.gcs_fixtures import (
    FAST_RETRY,
    HTTP_TIMEOUT,
    clear_faults,
    get_faults,
    make_client,
    set_faults,
)
from tests.emulators.gcs_support import KIB

pytestmark = [pytest.mark.emulators, pytest.mark.timeout(60)]


@pytest.fixture
def faulty_url() -> Iterator[str]:
    """A private emulator for fault tests, so faults never leak into other tests."""
    with GcsEmulatorThread(host="127.0.0.1", port=0) as emulator:
        yield emulator.url


# -- fault injection ------------------------------------------------------------------------------


def test_error_rate_is_absorbed_by_client_retries(faulty_url: str) -> None:
    client = make_client(faulty_url)
    bkt = client.create_bucket("flaky")
    set_faults(faulty_url, error_rate=0.2, status=503, seed=7)
    payloads = {f"obj-{i:02d}": os.urandom(1000 + i) for i in range(15)}
    for name, data in payloads.items():
        bkt.blob(name).upload_from_string(data, if_generation_match=0, retry=FAST_RETRY)
    big = os.urandom(2 * 1024 * KIB + 17)
    bkt.blob("resumable", chunk_size=256 * KIB).upload_from_file(io.BytesIO(big), retry=FAST_RETRY)

    listed = [b.name for b in client.list_blobs(bkt, page_size=4, retry=FAST_RETRY)]
    assert listed == sorted([*payloads, "resumable"])
    for name, data in payloads.items():
        assert bkt.blob(name).download_as_bytes(retry=FAST_RETRY) == data
    assert bkt.blob("resumable").download_as_bytes(retry=FAST_RETRY) == big
    stats = get_faults(faulty_url)
    assert stats["injected"] > 0 and stats["requests"] > stats["injected"]


def test_fail_nth_fails_exactly_that_request(faulty_url: str) -> None:
    client = make_client(faulty_url)
    bkt = client.create_bucket("nth")
    bkt.blob("x").upload_from_string(b"x")
    set_faults(faulty_url, fail_nth={"operation": "object.get", "n": 3}, status=503)
    outcomes = []
    for _ in range(5):
        try:
            bkt.blob("x").reload(retry=None)
            outcomes.append("ok")
        except gexc.ServiceUnavailable:
            outcomes.append("503")
    assert outcomes == ["ok", "ok", "503", "ok", "ok"]
    assert get_faults(faulty_url)["injected"] == 1

    set_faults(faulty_url, fail_nth={"operation": "download", "n": 2}, status=429)
    assert bkt.blob("x").download_as_bytes(retry=None) == b"x"
    with pytest.raises(gexc.TooManyRequests):
        bkt.blob("x").download_as_bytes(retry=None)
    assert bkt.blob("x").download_as_bytes(retry=None) == b"x"


def test_dropped_connection_mid_upload_is_retried(faulty_url: str) -> None:
    client = make_client(faulty_url)
    bkt = client.create_bucket("drops")
    set_faults(faulty_url, fail_nth={"operation": "upload.chunk", "n": 2},
               drop_connection_mid_upload=True)
    data = os.urandom(2 * 1024 * KIB)
    bkt.blob("chunked", chunk_size=512 * KIB).upload_from_file(io.BytesIO(data), retry=FAST_RETRY)
    assert get_faults(faulty_url)["injected"] == 1
    assert bkt.blob("chunked").download_as_bytes() == data

    set_faults(faulty_url, fail_nth={"operation": "upload", "n": 1}, drop_connection_mid_upload=True)
    bkt.blob("single").upload_from_string(b"s" * 5000, if_generation_match=0, retry=FAST_RETRY)
    assert get_faults(faulty_url)["injected"] == 1
    assert bkt.blob("single").download_as_bytes() == b"s" * 5000


def test_admin_endpoints_are_never_faulted(faulty_url: str) -> None:
    client = make_client(faulty_url)
    set_faults(faulty_url, error_rate=1.0, status=503, latency_ms=5)
    with pytest.raises(gexc.ServiceUnavailable):
        client.create_bucket("never", retry=None)
    snapshot = get_faults(faulty_url)
    assert snapshot["config"]["error_rate"] == 1.0 and snapshot["injected"] == 1
    bad = requests.post(f"{faulty_url}/_emulator/faults", json={"error_rate": 2},
                        timeout=HTTP_TIMEOUT)
    assert bad.status_code == 400
    clear_faults(faulty_url)
    assert client.create_bucket("now-works").name == "now-works"
