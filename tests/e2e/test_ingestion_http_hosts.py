"""The daemon as a subprocess with the default settings: an http(s) source on loopback (its own
ports, a sidecar) is refused with a 422 naming the URL and MLPLANE_INGEST_HTTP_PRIVATE_HOSTS, and
the server it names is never connected to. Loopback ingestion with the setting on is covered by
test_ingestion_schedules_api.py (planned in the daemon, staged in its pool processes)."""

from __future__ import annotations

from collections.abc import Iterator

import aiohttp
import pytest

from tests.support.daemon import module_daemon, request_json
from tests.support.http_files import FileServer

pytestmark = pytest.mark.e2e
SETTING = "MLPLANE_INGEST_HTTP_PRIVATE_HOSTS"


daemon = module_daemon("hosts", {"MLPLANE_SEED_DEMO": "false"})


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FileServer]:
    folder = tmp_path_factory.mktemp("served")
    (folder / "rows.csv").write_text("id,score\n1,0.5\n2,0.25\n")
    with FileServer(folder) as server:
        yield server


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
async def test_a_loopback_url_is_refused_by_default_naming_the_setting(daemon, session, files, host) -> None:
    url = files.url("rows.csv").replace("127.0.0.1", host)
    body = {"sources": [url], "table": "rows", "format": "csv"}
    status, answer = await request_json(session, "POST", f"{daemon.url}/v1/ingestions", body)
    assert status == 422, answer
    message = answer["error"]["message"]
    assert url in message and "loopback address" in message and f"{SETTING}=true" in message, message
    assert answer["error"]["details"]["source"] == url
    assert files.requests == []  # refused before connecting


async def test_a_link_local_url_is_still_refused(daemon, session: aiohttp.ClientSession) -> None:
    url = "http://169.254.169.254/computeMetadata/v1/instance/service-accounts/default/token"
    body = {"sources": [url], "table": "t"}
    status, answer = await request_json(session, "POST", f"{daemon.url}/v1/ingestions", body)
    assert status == 422 and "link-local" in answer["error"]["message"]
