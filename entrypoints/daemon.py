"""Process supervisor: `mlplane up` (API + workers in one process), `mlplane api`, `mlplane worker`.

Shutdown on SIGTERM/SIGINT: stop intake (close the listener), let running jobs finish for the
grace period (the rest are handed back to the queue), close sockets, then stop Redis. The same
shutdown, then exit status 1, when the embedded Redis died and could not be restarted.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Sequence
from typing import Any

from aiohttp import web

from domain.services.ingestion import COMMIT_QUEUE
from domain.services.training import TRAINING_QUEUE
from domain.types.redaction import redact_urls
from domain.types.secrets import Secret
from entrypoints.api.app import create_app
from entrypoints.container import Container
from entrypoints.demo_pipeline import ensure_demo_pipeline
from entrypoints.inference_runner import PipelineRunner
from entrypoints.runtime import StartupError, build_container, open_runtime
from entrypoints.seed import seed_demo_data
from entrypoints.settings import Settings
from entrypoints.workers import build_worker, check_queue_allowed

log = logging.getLogger(__name__)


async def run_process(settings: Settings, *, serve_api: bool, queues: Sequence[str], in_daemon: bool,
                      pipelines: Sequence[str] | None = ()) -> None:
    """`pipelines`: consumers to run here; None runs every configured pipeline (`mlplane up`)."""
    for queue in queues:
        check_queue_allowed(queue, settings.profile, in_daemon)
    if in_daemon and settings.profile == "local" and not {TRAINING_QUEUE, COMMIT_QUEUE} <= set(queues):
        raise StartupError("MLPLANE_DAEMON_QUEUES must include 'training' and 'commits' in the 'local' profile: "
                           "only the daemon may open the DuckDB file, which fits and ingestion commits read")
    if serve_api and not in_daemon and settings.profile == "local":
        raise StartupError("a separate 'mlplane api' needs a shared warehouse: in the 'local' profile "
                           "the DuckDB file belongs to 'mlplane up'; use the 'emulated' or 'gcp' profile")
    stop = _stop_event()
    lost = _RedisLoss(stop)
    container = build_container(settings)
    token = await _api_token(container, settings) if serve_api else None  # refuse before binding anything
    owns_warehouse = in_daemon and settings.profile == "local"
    async with open_runtime(container, owns_warehouse=owns_warehouse, on_redis_lost=lost):
        if serve_api and settings.seed_demo and (in_daemon or settings.profile != "local"):
            await seed_demo_data(container)
        workers = [build_worker(container, q) for q in queues]
        for worker in workers:
            await worker.start()
        # In 'local' the DuckDB file belongs to 'mlplane up': a separate consumer leaves signals_table to it.
        record = in_daemon or settings.profile != "local"
        consumers = PipelineRunner(container, pipelines, record_signals=record) if pipelines != () else None
        if consumers is not None:
            await consumers.start()
        demo = _demo_pipeline(container, settings, in_daemon and serve_api)
        runner = await _start_api(container, settings, token) if serve_api else None
        if not serve_api:
            what = f"queues {', '.join(queues)}" if queues else f"pipelines {', '.join(pipelines or ['all'])}"
            print(f"mlplane worker ready: {what} (profile {settings.profile}, env {settings.env})", flush=True)
        await stop.wait()
        if demo is not None:
            demo.cancel()
        await _shut_down(settings, runner, consumers, workers, lost)
    if lost.reason is not None:
        raise ProcessLost(lost.reason)


class ProcessLost(RuntimeError):
    """The process ran, then lost what it cannot work without (its embedded Redis, for good)."""


class _RedisLoss:
    """Told when the embedded Redis died and would not restart: the process shuts down (closing its
    listener, so /healthz fails at once) and exits non-zero, for its supervisor to start it afresh."""

    def __init__(self, stop: asyncio.Event) -> None:
        self._stop = stop
        self.reason: str | None = None

    def __call__(self, reason: str) -> None:
        self.reason = reason
        self._stop.set()


def _demo_pipeline(container: Container, settings: Settings, in_daemon: bool) -> asyncio.Task[None] | None:
    """`mlplane up` trains and wires the demo pipeline in the background on first start."""
    if not (in_daemon and settings.seed_demo):
        return None
    return asyncio.create_task(ensure_demo_pipeline(container), name="demo-pipeline")


async def _shut_down(settings: Settings, runner: web.AppRunner | None, consumers: PipelineRunner | None,
                     workers: Sequence[Any], lost: _RedisLoss) -> None:
    log.info("shutting down: intake stopped, waiting up to %.0fs for running work", settings.shutdown_grace_s)
    if runner is not None:
        for site in list(runner.sites):
            await site.stop()  # stop accepting connections; open WebSockets keep streaming
    try:
        if consumers is not None:
            await consumers.stop(settings.shutdown_grace_s)
        await asyncio.gather(*(w.stop(settings.shutdown_grace_s) for w in workers))
    except Exception as exc:
        if lost.reason is None:
            raise
        # With Redis gone, workers and consumers cannot stop cleanly; the cause is already known and logged.
        log.warning("stopping work without Redis: %s: %s", type(exc).__name__, exc)
    finally:
        if runner is not None:
            await runner.cleanup()


async def _api_token(container: Container, settings: Settings) -> Secret | None:
    token = await container.secrets().get(settings.api_token_secret)
    if token is None and not settings.binds_loopback_only:
        raise StartupError(
            f"refusing to serve {settings.host} without authentication: set the secret "
            f"{settings.api_token_secret!r} (MLPLANE_SECRET_API_TOKEN or a file in MLPLANE_SECRETS_DIR)"
        )
    return token


async def _start_api(container: Container, settings: Settings, token: Secret | None) -> web.AppRunner:
    runner = web.AppRunner(create_app(container, token), access_log=None, shutdown_timeout=5.0)
    await runner.setup()
    site = web.TCPSite(runner, settings.host, settings.port)
    await site.start()
    _print_banner(settings, _bound_port(runner, settings.port), auth=token is not None,
                  redis_url=container.redis_url())
    return runner


def _bound_port(runner: web.AppRunner, requested: int) -> int:
    for address in runner.addresses:
        if isinstance(address, tuple):
            return int(address[1])
    return requested


def _print_banner(settings: Settings, port: int, auth: bool, redis_url: str) -> None:
    host = settings.host if ":" not in settings.host else f"[{settings.host}]"
    base = f"http://{host}:{port}"
    lines = [
        f"mlplane serving {base}  (profile {settings.profile}, env {settings.env}, "
        f"auth {'bearer token' if auth else 'off (loopback only)'})",
        f"  API        {base}/v1/tables  {base}/v1/models  {base}/openapi.json",
        f"  Train      POST {base}/v1/training-jobs   (mlplane train SPEC.json --follow)",
        f"  Events     ws://{host}:{port}/v1/training-jobs/<job id>/events",
        f"  Health     {base}/healthz  {base}/readyz  {base}/metrics",
        f"  Data dir   {settings.data_dir.resolve()}",
        _redis_line(settings, redis_url),
    ]
    print("\n".join(lines), flush=True)


def _redis_line(settings: Settings, url: str) -> str:
    """Separate `mlplane inference` / `mlplane worker` processes join this daemon through its Redis:
    the embedded server's URL is known only once it runs, so it is shown here (a password never is)."""
    if settings.redis_url:
        return f"  Redis      {redact_urls(url)}  (MLPLANE_REDIS_URL)"
    return f"  Redis      {url}  (embedded; separate processes: MLPLANE_REDIS_URL={url} mlplane inference ...)"


def _stop_event() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    return stop


def main_sync(settings: Settings, *, serve_api: bool, queues: Sequence[str], in_daemon: bool,
              pipelines: Sequence[str] | None = ()) -> int:
    try:
        asyncio.run(run_process(settings, serve_api=serve_api, queues=queues, in_daemon=in_daemon,
                                pipelines=pipelines))
    except ProcessLost as exc:  # not a refusal to start (2): it ran, then failed
        print(f"mlplane: {exc}", file=sys.stderr)
        return 1
    except (StartupError, RuntimeError) as exc:
        print(f"mlplane: {exc}", file=sys.stderr)
        return 2
    except Exception:  # a bug: say so in the log with the traceback, and exit non-zero
        log.exception("mlplane stopped on an unexpected error")
        return 1
    return 0
