"""Opens and closes the resources a process needs, in order, around the DI container."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable

import anyio
import structlog

from adapters.embedded_redis import (
    DataDirInUse,
    DataDirLock,
    EmbeddedRedisError,
    EmbeddedRedisServer,
    EmbeddedRedisSupervisor,
)
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
async def open_runtime(container: Container, *, owns_warehouse: bool = False,
                       on_redis_lost: Callable[[str], None] = lambda reason: None) -> AsyncIterator[Container]:
    """`owns_warehouse`: this process opens the local DuckDB file (`mlplane up`), so it must own the data
    dir, as a process starting the embedded Redis must; `on_redis_lost` is told when that Redis died and
    could not be restarted (the process is useless from then on)."""
    settings = container.settings()
    async with contextlib.AsyncExitStack() as stack:
        if owns_warehouse or not settings.redis_url:
            _lock_data_dir(settings, stack, joinable=not owns_warehouse)
        redis_url = settings.redis_url or await _start_embedded_redis(settings, stack, on_redis_lost)
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


def _lock_data_dir(settings: Settings, stack: contextlib.AsyncExitStack, joinable: bool) -> None:
    """Taken before anything in the data dir is touched: a second owner would stop the live daemon's
    Redis as a leftover, then fight it for the DuckDB file. `joinable`: this process only wanted a Redis
    of its own, and could share the owner's instead."""
    lock = DataDirLock(settings.data_dir)
    try:
        lock.acquire()
    except DataDirInUse as exc:
        port = EmbeddedRedisServer(lock.data_dir / "redis").remembered_port()
        url = f"redis://127.0.0.1:{port}/0" if port is not None else "the URL its banner shows"
        hint = f"; to work beside it, set MLPLANE_REDIS_URL to its Redis ({url})" if joinable else ""
        raise StartupError(exc.message + hint) from None
    stack.callback(lock.release)


async def _start_embedded_redis(settings: Settings, stack: contextlib.AsyncExitStack,
                                on_lost: Callable[[str], None]) -> str:
    server = EmbeddedRedisServer(settings.data_dir.resolve() / "redis", port=settings.embedded_redis_port)
    try:
        url = await server.start()
    except EmbeddedRedisError as exc:  # no binary, a taken MLPLANE_EMBEDDED_REDIS_PORT: the message says which
        raise StartupError(exc.message) from exc
    stack.push_async_callback(server.stop)
    supervisor = EmbeddedRedisSupervisor(server, on_lost)
    supervisor.start()
    stack.push_async_callback(supervisor.stop)  # first: a server stopped on purpose is not restarted
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

