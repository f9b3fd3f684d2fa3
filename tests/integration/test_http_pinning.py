"""DNS rebinding: an http(s) source's host is resolved once, every address checked, and the connection
goes to a checked address, even when a second lookup would answer another one (first hop and
redirects). TLS still sends the host name and checks the certificate against it.

Only the resolver is scripted (socket.getaddrinfo answers `rebind.test` differently on each call);
the targets are real servers on two loopback addresses that share a port."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.error import URLError

import pytest

from adapters.pyarrow_files.http_source import get
from adapters.pyarrow_files.url_guard import HostPolicy, connect_to
from domain.types.errors import InvalidSpec

pytestmark = pytest.mark.integration
NAME = "rebind.test"
LOOPBACK = HostPolicy(private_hosts=True)  # the only addresses a test can serve from


class _Named(BaseHTTPRequestHandler):
    """Answers /start with a redirect to the name, anything else with the server's own name."""

    def do_GET(self) -> None:
        if self.path == "/start":
            self.send_response(302)
            self.send_header("Location", f"http://{NAME}:{self.server.server_address[1]}/file")
            self.end_headers()
            return
        body = self.server.name.encode()  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        return None


def serve(address: str, port: int, name: str) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer((address, port), _Named)
    server.name = name  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture
def servers() -> Iterator[int]:
    """'checked' on 127.0.0.1 and 'rebound' on 127.0.0.2, on the same port."""
    checked = serve("127.0.0.1", 0, "checked")
    rebound = serve("127.0.0.2", checked.server_address[1], "rebound")
    yield checked.server_address[1]
    for server in (checked, rebound):
        server.shutdown()
        server.server_close()


@pytest.fixture
def answers(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    return scripted_resolver(monkeypatch)


def scripted_resolver(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """rebind.test resolves to 127.0.0.1 at the first lookup, 127.0.0.2 at every later one; the list
    returned records the answer of each lookup. Other names resolve as usual."""
    real, script = socket.getaddrinfo, ["127.0.0.1", "127.0.0.2"]
    asked: list[str] = []

    def scripted(host: object, port: object = None, *args: object, **kwargs: object) -> list:
        if host != NAME:
            return real(host, port, *args, **kwargs)  # type: ignore[arg-type]
        address = script[min(len(asked), len(script) - 1)]
        asked.append(address)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, int(port or 0)))]

    monkeypatch.setattr(socket, "getaddrinfo", scripted)
    return asked


@pytest.mark.parametrize("path", ["/file", "/start"], ids=["first-hop", "redirect"])
def test_the_connection_goes_to_the_checked_address_not_a_second_answer(servers, answers, path) -> None:
    start = f"http://{NAME}:{servers}{path}" if path == "/file" else f"http://127.0.0.1:{servers}/start"
    with get(start, LOOPBACK) as response:
        assert response.read() == b"checked"
    assert answers == ["127.0.0.1"]  # looked up once: a second lookup would have answered 127.0.0.2


def test_one_refused_address_among_the_answers_refuses_the_host(monkeypatch: pytest.MonkeyPatch) -> None:
    def hostile(host: object, *args: object, **kwargs: object) -> list:
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, 0)) for a in ("8.8.8.8", "127.0.0.1")]

    monkeypatch.setattr(socket, "getaddrinfo", hostile)
    with pytest.raises(InvalidSpec, match=r"rebind\.test \(127\.0\.0\.1\) is a loopback address"):
        HostPolicy().addresses(f"http://{NAME}/x.csv")


def test_a_name_that_does_not_resolve_is_not_reachable() -> None:
    with pytest.raises(URLError):
        HostPolicy().addresses("http://files.invalid/x.csv")


def test_connect_to_tries_the_checked_addresses_in_order(servers) -> None:
    with connect_to(["127.0.0.3", "127.0.0.2"], servers, 5.0, None) as sock:  # nothing listens on .3
        assert sock.getpeername() == ("127.0.0.2", servers)
    with pytest.raises(ConnectionRefusedError):
        connect_to(["127.0.0.3"], servers, 5.0, None)
