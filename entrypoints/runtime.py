"""Opens and closes the resources a process needs, in order, around the DI container."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import anyio
import structlog

from adapters.embedded_redis.server import EmbeddedRedisServer
from domain.types.redaction import redact_urls
from entrypoints.cloud_clients import ensure_bucket
from entrypoints.container import Container
from entrypoints.settings import Settings

# structlog, not stdlib logging: its keyword fields reach the JSON line (stdlib `extra=` fields do not).
log = structlog.get_logger(__name__)


class StartupError(RuntimeError):
    """A process cannot start; the message says what to fix."""


def build_container(settings: Settings) -> Container:
    """A container whose Redis URL is filled in by `open_runtime` (it may start a server)."""
    return Container(settings=settings)


@contextlib.asynccontextmanager
async def open_runtime(container: Container) -> AsyncIterator[Container]:
    settings = container.settings()
    async with contextlib.AsyncExitStack() as stack:
        redis_url = settings.redis_url or await _start_embedded_redis(settings, stack)
        container.redis_url.override(redis_url)
        stack.push_async_callback(_close_resources, container)
        try:
            await container.redis().ping()
        except Exception as exc:
            raise StartupError(f"Redis at {redact_urls(redis_url)} does not answer: {exc}") from exc
        if settings.profile == "emulated":
            await _prepare_emulated(container, settings)
        yield container


async def _prepare_emulated(container: Container, settings: Settings) -> None:
    try:
        await anyio.to_thread.run_sync(ensure_bucket, container.gcs(), settings.gcs_bucket)
    except Exception as exc:
        raise StartupError(
            f"the GCS emulator at {settings.gcs_emulator_url} does not answer ({type(exc).__name__}); "
            "start it with 'mlplane emulators' or set MLPLANE_GCS_EMULATOR_URL"
        ) from exc


async def _start_embedded_redis(settings: Settings, stack: contextlib.AsyncExitStack) -> str:
    server = EmbeddedRedisServer(settings.data_dir.resolve() / "redis")
    url = await server.start()
    stack.push_async_callback(server.stop)
    # The URL separate processes (`mlplane inference`, `mlplane worker`) need as MLPLANE_REDIS_URL.
    log.info("embedded redis started", url=url, data_dir=str(server.data_dir))
    return url


async def _close_resources(container: Container) -> None:
    # Singletons that were never used are not created just to be closed.
    with contextlib.suppress(Exception):
        await container.events().close()
    with contextlib.suppress(Exception):
        # Its HTTP session opens on the first webhook; closing it here (the action worker has
        # stopped by now) is what keeps "Unclosed client session" out of the shutdown log.
        await container.webhooks().close()
    for backend in (container.sklearn_backend, container.keras_backend):
        with contextlib.suppress(Exception):
            backend().close()  # stops the manager process that carries fit progress
    for pool in (container.fit_pool(), container.ingest_pool()):  # processes start lazily: cheap if unused
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
    with contextlib.suppress(Exception):
        await container.redis().aclose()
    if container.settings().profile == "local":
        with contextlib.suppress(Exception):
            container.warehouse().close()

