"""http(s) sources never reach a link-local host (cloud metadata servers hand out credentials there),
and by default no loopback, private or other non-public address either: not named directly, not
through a redirect from an allowed server. Real local HTTP servers; the refused hops are never
connected to."""

from __future__ import annotations

import pickle
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from adapters.pyarrow_files.locations import RemoteConfig, expand, open_binary
from adapters.pyarrow_files.url_guard import SETTING, HostPolicy
from domain.types.errors import InvalidSpec
from entrypoints.factories import remote_files
from entrypoints.settings import Settings
from tests.support.http_files import FileServer

pytestmark = pytest.mark.integration
METADATA = "http://169.254.169.254/computeMetadata/v1/instance/service-accounts/default/token"
PRIVATE_ALLOWED = RemoteConfig(hosts=HostPolicy(private_hosts=True))


class _Redirect(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.server.seen.append(self.path)  # type: ignore[attr-defined]
        self.send_response(302)
        self.send_header("Location", self.server.target)  # type: ignore[attr-defined]
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        return None


@pytest.fixture
def redirector() -> Iterator[ThreadingHTTPServer]:
    """Answers every GET (a proxied one too) with a redirect to its `target`, recording the paths asked."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Redirect)
    server.target, server.seen = METADATA, []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def url_of(server: ThreadingHTTPServer) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}/data.csv"


@pytest.mark.parametrize("config", [None, PRIVATE_ALLOWED], ids=["default", "private-allowed"])
@pytest.mark.parametrize("url", [METADATA, "http://metadata.google.internal/computeMetadata/v1/project/project-id",
                                 "http://[fe80::1]/data.csv", "http://[fe80::1%25eth0]/data.csv",
                                 "http://[::ffff:169.254.169.254]/latest/meta-data/",
                                 "http://[fd00:ec2::254]/latest/meta-data/", "http://[fd20:ce::254]/",
                                 "http://100.100.100.200/latest/meta-data/", "http://[64:ff9b:1::a9fe:a9fe]/",
                                 "http://[::a9fe:a9fe]/"])
def test_a_link_local_source_is_refused_with_a_4xx_naming_it(url: str, config: RemoteConfig | None) -> None:
    with pytest.raises(InvalidSpec, match="link-local") as refused:
        expand(url, config)
    assert refused.value.details["source"] == url


@pytest.mark.parametrize(("url", "kind"), [
    ("http://127.0.0.1:8080/admin", "loopback"), ("http://localhost/x.csv", "loopback"),
    ("http://[::1]/x.csv", "loopback"), ("http://[::ffff:127.0.0.1]/x.csv", "loopback"),
    ("http://10.0.0.8/x.csv", "private"), ("http://192.168.1.1/x.csv", "private"), ("http://172.16.0.1/", "private"),
    ("http://[::ffff:10.0.0.8]/x.csv", "private"), ("http://[fd00::2]/x.csv", "private"),
    ("http://100.64.0.1/x.csv", "shared"), ("http://0.0.0.0:8080/x.csv", "unspecified"),
    ("http://[::]/x.csv", "unspecified"), ("http://224.0.0.1/x.csv", "multicast"),
    ("http://[ff0e::1]/x.csv", "multicast"), ("http://240.0.0.1/x.csv", "reserved"),
    ("http://[2002:7f00:1::]/x.csv", "loopback"),  # 6to4 of 127.0.0.1
])
def test_a_non_public_source_is_refused_by_default_naming_the_setting(url: str, kind: str) -> None:
    with pytest.raises(InvalidSpec, match=f"is an? {kind}") as refused:
        expand(url, None)
    assert url in refused.value.message and SETTING in refused.value.message
    assert refused.value.details["setting"] == SETTING and refused.value.details["source"] == url


@pytest.mark.parametrize("url", ["http://[::1/x.csv", "http://127.0.0.1:99999/x.csv"])
def test_a_malformed_url_is_refused_naming_it_not_raised_as_a_bare_value_error(url: str) -> None:
    with pytest.raises(InvalidSpec, match="is not a valid URL") as refused:
        expand(url, None)
    assert url in refused.value.message


@pytest.mark.parametrize("url", ["http://8.8.8.8/x.csv", "http://[2001:4860:4860::8888]/x.csv",
                                 "http://[::ffff:8.8.8.8]/x.csv"])
def test_a_public_address_passes_the_check(url: str) -> None:
    assert HostPolicy().addresses(url)  # resolved from the literal, checked; nothing is connected to


def test_private_addresses_pass_when_the_setting_allows_them() -> None:
    assert HostPolicy(private_hosts=True).addresses("http://10.0.0.8/x.csv") == ("10.0.0.8",)
    assert HostPolicy(private_hosts=True).addresses("http://127.0.0.1:8080/x.csv") == ("127.0.0.1",)


def test_a_redirect_to_a_link_local_host_is_refused_at_submit_and_while_reading(redirector) -> None:
    with pytest.raises(InvalidSpec, match=r"169\.254\.169\.254 is a link-local or cloud metadata address"):
        expand(url_of(redirector), PRIVATE_ALLOWED)
    with pytest.raises(InvalidSpec, match="link-local"), open_binary(url_of(redirector), PRIVATE_ALLOWED) as handle:
        handle.read()
    assert redirector.seen  # the allowed first hop was asked; the refused one never was


def test_a_redirect_from_an_allowed_server_to_loopback_is_refused(redirector, tmp_path, monkeypatch) -> None:
    """Tests have no public address to serve from, so the allowed first hop goes through a proxy the
    operator set (proxies are not checked: they connect for the daemon), to a name that does not resolve
    here (the proxy resolves it). Its answer redirects to a loopback server, which never sees a request."""
    (tmp_path / "secret.csv").write_text("token\nabc\n")
    for name in ("no_proxy", "NO_PROXY", "https_proxy", "HTTPS_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("http_proxy", f"http://127.0.0.1:{redirector.server_address[1]}")
    with FileServer(tmp_path) as inside:
        redirector.target = inside.url("secret.csv")
        with pytest.raises(InvalidSpec, match="is a loopback address") as refused:
            expand("http://files.invalid/data.csv", None)
        assert inside.url("secret.csv") in refused.value.message and SETTING in refused.value.message
        assert redirector.seen == ["http://files.invalid/data.csv"] and inside.requests == []


def test_loopback_sources_are_served_when_allowed(tmp_path: Path) -> None:
    (tmp_path / "rows.csv").write_text("id\n1\n")
    with FileServer(tmp_path, ranges=True) as server:
        assert expand(server.url("rows.csv"), PRIVATE_ALLOWED) == [server.url("rows.csv")]
        with pytest.raises(InvalidSpec, match=SETTING):
            expand(server.url("rows.csv"), None)
        assert len(server.requests) == 1  # the refused attempt never connected


@pytest.mark.parametrize("profile", ["local", "emulated"])
def test_the_setting_travels_with_the_files_config_to_staging_processes(profile, monkeypatch) -> None:
    assert remote_files(Settings(profile=profile)).hosts == HostPolicy(private_hosts=False)
    monkeypatch.setenv(SETTING, "true")
    config = remote_files(Settings(profile=profile))
    assert pickle.loads(pickle.dumps(config)).hosts == HostPolicy(private_hosts=True)  # as a pool process gets it
