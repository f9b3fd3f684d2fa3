"""SecretManagerProvider with the official client (REST transport) against a local fake API.

The fake serves the one call the provider makes, `versions/latest:access`, on 127.0.0.1 in a
background thread, and counts requests so the TTL cache is checked by what reached the server.
"""

from __future__ import annotations

import asyncio
import base64
import socket
import threading
from collections import Counter
from collections.abc import Iterator

import google_crc32c
import pytest
from aiohttp import web
from google.auth.credentials import AnonymousCredentials
from google.cloud import secretmanager

from adapters.secrets.gcp import SecretManagerProvider
from domain.types.errors import IntegrityError, InvalidIdentifier, PermanentError, TransientError
from domain.types.secrets import Secret

pytestmark = [pytest.mark.integration, pytest.mark.timeout(30)]


class FakeSecretManager:
    """`GET /v1/projects/{p}/secrets/{s}/versions/latest:access` over {(project, secret): value}."""

    def __init__(self, secrets: dict[tuple[str, str], str]) -> None:
        self.secrets = secrets
        self.requests: Counter[str] = Counter()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def _access(self, request: web.Request) -> web.Response:
        project, secret = request.match_info["project"], request.match_info["secret"]
        self.requests[secret] += 1
        name = f"projects/{project}/secrets/{secret}/versions/1"
        if secret == "forbidden":
            error = {"code": 403, "message": "Permission denied.", "status": "PERMISSION_DENIED"}
            return web.json_response({"error": error}, status=403)
        if (project, secret) not in self.secrets:
            error = {"code": 404, "message": f"Secret [{name}] not found.", "status": "NOT_FOUND"}
            return web.json_response({"error": error}, status=404)
        value = self.secrets[project, secret].encode()
        # dataCrc32c is optional; "corrupt" gets a wrong one, the others the right one.
        crc = google_crc32c.value(value) + (secret == "corrupt")
        payload = {"data": base64.b64encode(value).decode(), "dataCrc32c": str(crc)}
        return web.json_response({"name": name, "payload": payload})

    async def _start(self) -> str:
        app = web.Application()
        app.router.add_get("/v1/projects/{project}/secrets/{secret}/versions/latest:access", self._access)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> FakeSecretManager:
        self._thread.start()
        self.url = asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(10)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def revealed(secret: Secret | None) -> str:
    assert secret is not None
    return secret.reveal()


@pytest.fixture(scope="module")
def fake_api() -> Iterator[FakeSecretManager]:
    secrets = {("proj", "api-token"): "s3cr3t-value\n", ("proj", "db_password"): "hunter2",
               ("proj", "rotating"): "v1", ("proj", "corrupt"): "x", ("other", "only-elsewhere"): "x"}
    with FakeSecretManager(secrets) as fake:
        yield fake


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def provider(fake_api: FakeSecretManager, clock: FakeClock) -> Iterator[SecretManagerProvider]:
    fake_api.requests.clear()
    client = secretmanager.SecretManagerServiceClient(
        credentials=AnonymousCredentials(), transport="rest", client_options={"api_endpoint": fake_api.url})
    yield SecretManagerProvider("proj", ttl_seconds=60, client=client, clock=clock)
    client.transport.close()


async def test_returns_the_latest_value_as_a_secret(provider: SecretManagerProvider) -> None:
    assert revealed(await provider.get("api-token")) == "s3cr3t-value"  # trailing newline dropped
    assert revealed(await provider.get("db_password")) == "hunter2"


async def test_an_unknown_secret_is_none(provider: SecretManagerProvider) -> None:
    assert await provider.get("not-there") is None
    assert await provider.get("only-elsewhere") is None  # another project's secret


async def test_a_second_read_inside_the_ttl_does_not_reach_the_server(
        provider: SecretManagerProvider, fake_api: FakeSecretManager, clock: FakeClock) -> None:
    await provider.get("api-token")
    await provider.get("not-there")
    clock.now += 59
    assert revealed(await provider.get("api-token")) == "s3cr3t-value"
    assert await provider.get("not-there") is None
    assert fake_api.requests == {"api-token": 1, "not-there": 1}


async def test_after_the_ttl_the_value_is_read_again(
        provider: SecretManagerProvider, fake_api: FakeSecretManager, clock: FakeClock) -> None:
    fake_api.secrets["proj", "rotating"] = "v1"
    assert revealed(await provider.get("rotating")) == "v1"
    fake_api.secrets["proj", "rotating"] = "v2"
    clock.now += 59
    assert revealed(await provider.get("rotating")) == "v1"  # still cached
    clock.now += 2
    assert revealed(await provider.get("rotating")) == "v2"
    assert fake_api.requests["rotating"] == 2


async def test_the_value_never_shows_in_repr_or_str(provider: SecretManagerProvider) -> None:
    secret = await provider.get("api-token")
    for text in (repr(secret), str(secret), repr(provider), repr(provider.__dict__)):
        assert "s3cr3t" not in text


async def test_names_that_could_change_the_resource_path_are_refused(
        provider: SecretManagerProvider, fake_api: FakeSecretManager) -> None:
    for name in ("api-token/versions/1", "../other", "", "api-token\n"):
        with pytest.raises(InvalidIdentifier):
            await provider.get(name)
    assert sum(fake_api.requests.values()) == 0


async def test_refusals_and_corruption_raise_port_errors(provider: SecretManagerProvider) -> None:
    with pytest.raises(PermanentError) as refused:
        await provider.get("forbidden")
    assert refused.type is PermanentError
    with pytest.raises(IntegrityError):
        await provider.get("corrupt")


async def test_an_unreachable_api_is_a_transient_error() -> None:
    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = secretmanager.SecretManagerServiceClient(
        credentials=AnonymousCredentials(), transport="rest",
        client_options={"api_endpoint": f"http://127.0.0.1:{port}"})
    with pytest.raises(TransientError):
        await SecretManagerProvider("proj", client=client).get("api-token")
    client.transport.close()
