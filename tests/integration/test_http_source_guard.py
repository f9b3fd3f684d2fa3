"""http(s) sources never reach a link-local host (cloud metadata servers hand out credentials there):
not named directly, not through a redirect from an allowed server. Real local HTTP servers; the
refused hops are never connected to."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from adapters.pyarrow_files.locations import expand, open_binary
from domain.types.errors import InvalidSpec
from tests.support.http_files import FileServer

pytestmark = pytest.mark.integration
METADATA = "http://169.254.169.254/computeMetadata/v1/instance/service-accounts/default/token"


class _Redirect(BaseHTTPRequestHandler):
    target = METADATA

    def do_GET(self) -> None:
        self.send_response(302)
        self.send_header("Location", self.target)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        return None


@pytest.fixture
def redirector() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Redirect)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/data.csv"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("url", [METADATA, "http://metadata.google.internal/computeMetadata/v1/project/project-id",
                                 "http://[fe80::1]/data.csv"])
def test_a_link_local_source_is_refused_with_a_4xx_naming_it(url: str) -> None:
    with pytest.raises(InvalidSpec, match="link-local") as refused:
        expand(url, None)
    assert refused.value.details["source"] == url


def test_a_redirect_to_a_link_local_host_is_refused_at_submit_and_while_reading(redirector: str) -> None:
    with pytest.raises(InvalidSpec, match=r"169\.254\.169\.254 is a link-local address"):
        expand(redirector, None)
    with pytest.raises(InvalidSpec, match="link-local"), open_binary(redirector, None) as handle:
        handle.read()


def test_loopback_sources_are_still_served(tmp_path: Path) -> None:
    (tmp_path / "rows.csv").write_text("id\n1\n")
    with FileServer(tmp_path, ranges=True) as server:
        assert expand(server.url("rows.csv"), None) == [server.url("rows.csv")]
