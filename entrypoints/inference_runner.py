"""Runs pipeline consumers in this process: `mlplane inference PIPELINE` or all of them in `mlplane up`.

One consumer per pipeline per process (consumer name: host-pid-random). The runner re-reads the
pipeline configs every few seconds and restarts a consumer whose config changed, so a `PUT
/v1/pipelines/{name}` takes effect without a restart. Each consumer also trims its stream, never
past an entry some group still has pending. A pipeline with a signals_table has its recorder's
group on the signals stream from its first signal on, whether this process records or not, and
the consumer sweeps that group's consumer names of recorders long gone at each trim (the signals
stream itself is trimmed by each write). Each consumer's model watcher is also checked every few
seconds, so the pipeline's stats say what it serves (or why nothing) even with no traffic.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import secrets
import socket
from collections.abc import Sequence

from prometheus_client import Gauge

from adapters.redis_streams.signal_reader import RedisSignalReader
from domain.services.inference import InferenceService
from domain.services.pipelines import group_name
from domain.services.serving import ModelWatcher
from domain.services.signal_recorder import SignalRecorder, recorder_group
from domain.types.errors import MlplaneError
from domain.types.pipelines import PipelineConfig
from entrypoints.container import Container

log = logging.getLogger(__name__)
# The same figures as GET /v1/pipelines/{name} `stats`, refreshed with each stats event.
STATS = Gauge("mlplane_pipeline_stat", "Live pipeline stats (stat: events_processed, events_per_s, batch_size_avg, "
              "p50_ms, p99_ms, lag, pending, dlq, model_version, signals_backlog)", ["pipeline", "stat"])
RESCAN_S = 2.0
STATS_EVERY_S = 5.0  # live stats on the `pipeline:{name}` topic (WebSocket /v1/events?topics=pipeline:NAME)


class PipelineRunner:
    """`record_signals`: also run the `signals_table` recorders (not where the warehouse is off limits)."""

    def __init__(self, container: Container, names: Sequence[str] | None = None, record_signals: bool = True) -> None:
        self._container, self._names = container, set(names) if names else None
        self._record_signals = record_signals
        self._consumer = f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"
        self._running: dict[str, tuple[PipelineConfig, asyncio.Event, asyncio.Task[None]]] = {}
        self._watch: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self._sync()
        # Everything imported and loaded so far lives as long as the process: keep it out of the
        # collector's view, or each full collection walks millions of library objects (a ~100 ms
        # pause measured in the benchmark, i.e. the p99 event->signal latency).
        gc.freeze()
        self._watch = asyncio.create_task(self._watch_configs(), name="pipelines:watch")

    async def stop(self, grace_s: float) -> None:
        """Finish the batch in hand (it is acked), then stop; nothing unfinished is acked."""
        if self._watch:
            self._watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watch
        await asyncio.gather(*(self._stop_one(n, grace_s) for n in list(self._running)))

    async def _watch_configs(self) -> None:
        failing = False  # one warning per outage (Redis away), not one per rescan
        while True:
            await asyncio.sleep(RESCAN_S)
            try:
                await self._sync()
            except MlplaneError as exc:
                if not failing:
                    log.warning("could not refresh pipeline configs (retrying quietly): %s", exc.message)
                failing = True
                continue
            if failing:
                log.info("pipeline configs refresh again")
            failing = False

    async def _sync(self) -> None:
        configs = {c.name: c for c in await self._container.pipelines().configs()
                   if self._names is None or c.name in self._names}
        for name in list(self._running):
            if name not in configs or configs[name] != self._running[name][0]:
                await self._stop_one(name, 5.0)
        for name, config in configs.items():
            if name not in self._running:
                self._start_one(config)

    def _start_one(self, config: PipelineConfig) -> None:
        c = self._container
        source = c.event_source(stream=config.stream, group=group_name(config.name), consumer=self._consumer)
        watcher: ModelWatcher = c.model_watcher(config=config, signals=c.signal_sink(), holder=self._consumer)
        service: InferenceService = c.inference_service(config, source=source, watcher=watcher)
        stop = asyncio.Event()
        serving = self._serve(service, watcher, stop, self._recorder(config))
        task = asyncio.create_task(serving, name=f"pipeline:{config.name}")
        self._running[config.name] = (config, stop, task)
        log.info("pipeline %s: consumer %s started on stream %s", config.name, self._consumer, config.stream)

    def _recorder(self, config: PipelineConfig) -> SignalRecorder | None:
        if config.signals_table is None:
            return None
        if not self._record_signals:
            log.info("pipeline %s: signals_table %s is recorded by the daemon ('mlplane up'), which owns the "
                     "DuckDB file", config.name, config.signals_table)
            return None
        recorder: SignalRecorder = self._container.signal_recorder(config.name, config.signals_table,
                                                                   source=self._signals_reader(config))
        return recorder

    def _signals_reader(self, config: PipelineConfig) -> RedisSignalReader:
        """This process's consumer of the recorder's group on the pipeline's signals stream."""
        reader: RedisSignalReader = self._container.signal_reader(
            pipeline=config.name, group=recorder_group(config.name), consumer=self._consumer)
        return reader

    async def _serve(self, service: InferenceService, watcher: ModelWatcher, stop: asyncio.Event,
                     recorder: SignalRecorder | None) -> None:
        await self._keep_signals(service.config)
        helpers = [asyncio.create_task(self._trim_forever(service)),
                   asyncio.create_task(self._publish_stats_forever(service.config)),
                   asyncio.create_task(_check_model_forever(service.config, watcher))]
        recording = None if recorder is None else asyncio.create_task(recorder.run(stop), name="recorder")
        try:
            await service.warm_up()
        except MlplaneError as exc:  # no servable version yet: run() keeps waiting for one
            log.info("pipeline %s: %s", service.config.name, exc.message)
        try:
            await service.run(stop)
        finally:
            for helper in helpers:
                helper.cancel()
            await watcher.release()
            if recording is not None:
                await _stop_recording(recording, stop)

    async def _keep_signals(self, config: PipelineConfig) -> None:
        """The sink keeps what the recorder's group has not acked: create it before the first signal
        (its recorder may run elsewhere, or later), and drop it with the table, or it would hold
        the stream, then pause the pipeline, forever."""
        reader = self._signals_reader(config)
        try:
            await (reader.join() if config.signals_table else reader.leave())
        except Exception as exc:  # not fatal: the recorder creates its group at its first read anyway
            log.warning("pipeline %s: could not set up the signals recorder's group: %s", config.name, exc)

    async def _trim_forever(self, service: InferenceService) -> None:
        """Trim the input stream; with a signals_table, also forget the recorder group's consumer names
        of processes gone (each recorder start adds one, and Redis would keep them forever)."""
        every = self._container.settings().inference_trim_every_s
        recorders_group = self._signals_reader(service.config) if service.config.signals_table else None
        while True:
            await asyncio.sleep(every)
            with contextlib.suppress(MlplaneError):
                await service.trim_stream()
            if recorders_group is not None:
                with contextlib.suppress(MlplaneError):
                    await recorders_group.forget_gone_consumers()

    async def _publish_stats_forever(self, config: PipelineConfig) -> None:
        c = self._container
        while True:
            await asyncio.sleep(STATS_EVERY_S)
            with contextlib.suppress(MlplaneError):
                stats = await c.pipelines().stats(config)
                await c.events().append(f"pipeline:{config.name}", "stats", stats, c.clock().now())
                for stat, value in stats.items():
                    if isinstance(value, int | float):
                        STATS.labels(config.name, stat).set(value)

    async def _stop_one(self, name: str, grace_s: float) -> None:
        _config, stop, task = self._running.pop(name)
        stop.set()
        try:
            await asyncio.wait_for(asyncio.shield(task), grace_s)
        except TimeoutError:
            task.cancel()  # the unfinished batch stays pending: another consumer claims it
            with contextlib.suppress(asyncio.CancelledError):
                await task
        except Exception:
            log.exception("pipeline %s consumer ended with an error", name)


async def _check_model_forever(config: PipelineConfig, watcher: ModelWatcher) -> None:
    """Between batches the consumer checks its model itself; this keeps the stats true while no
    event arrives (the alias moved, or the pause mark of "nothing to serve" needs renewing)."""
    while True:
        await asyncio.sleep(STATS_EVERY_S)
        try:
            await watcher.check()
        except Exception as exc:  # the consumer meets the same error at its next batch, and logs it there
            log.debug("pipeline %s: model check failed: %s", config.name, exc)


async def _stop_recording(recording: asyncio.Task[None], stop: asyncio.Event) -> None:
    """The recorder ends after its current write and ack; one stuck (a paused retry) is cancelled,
    which leaves its batch pending: redone later, and the table skips what it already has."""
    stop.set()
    await asyncio.wait({recording}, timeout=5.0)
    recording.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await recording
