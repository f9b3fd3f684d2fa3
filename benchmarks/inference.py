"""Streaming inference benchmark: one consumer, events through Redis, a decision tree and a Keras MLP.

Compared in the same run: (a) the bare transport loop (read, parse, one signal per event, ack: the
ceiling of this design; the same JSON library and signal write as the pipeline); the full
pipeline (windows in Redis, 8 window features, ONNX Runtime predict, signals, stats) on a backlog
replayed as fast as possible, and its event->signal latency at half that load; (b) the naive loop
calling the library's `predict` once per event; (c) one offline predict over all the events' features.

Run: `python -m benchmarks.inference [--events 50000] [--quick] [--repeat 3]` (figures are medians).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np
import redis.asyncio as aioredis

from adapters._shared.redis_client import redis_client
from adapters.embedded_redis import EmbeddedRedisServer
from benchmarks import _inference_rig as rig
from benchmarks._report import percentiles, report
from benchmarks.models import backends, generate
from domain.types.training import SourceSpec, Task, TrainingSpec

NS = "mlplane:bench:"
FITS = {"decision_tree": {"max_depth": 12}, "keras_mlp": {"epochs": 2, "batch_size": 1024}}
NAIVE_BUDGET_S = 5.0


async def fit(algorithm: str, backend: Any) -> tuple[Any, dict[str, bytes]]:
    data = generate(100_000, 1)
    hyper = backend.validate(algorithm, Task.CLASSIFICATION, FITS[algorithm])
    spec = TrainingSpec("bench", algorithm, Task.CLASSIFICATION, SourceSpec("t", data.feature_names, "y"), hyper)
    model = await backend.fit(spec, data, _quiet)
    saved = await backend.serialize(model, data.features[:1000])
    return model, dict(saved.files)


async def _quiet(stage: str, fraction: float, extra: Any) -> None:
    return None


async def throughput(redis: aioredis.Redis, name: str, n: int, consume: Any) -> float:
    """Events/s draining a backlog of n events produced as fast as possible."""
    producer = rig.produce(redis_url(redis), f"{NS}stream:{name}", n)
    await asyncio.to_thread(producer.join)
    started = time.perf_counter()
    await consume(n)
    return n / (time.perf_counter() - started)


async def half_load(redis: aioredis.Redis, name: str, n: int, rate: float, prepare: Any) -> dict[str, float]:
    """p50/p99 event->signal while events arrive at `rate`/s; the consumer is warmed up first."""
    consume = await prepare()
    producer = rig.produce(redis_url(redis), f"{NS}stream:{name}", n, rate, seed=1)
    await consume(n)
    await asyncio.to_thread(producer.join)
    return percentiles((await rig.latencies(redis, f"{NS}signals:{name}"))[-n:])


def redis_url(redis: aioredis.Redis) -> str:
    kwargs = redis.connection_pool.connection_kwargs
    return f"redis://{kwargs['host']}:{kwargs['port']}/0"


def naive_rate(call: Any, rows: np.ndarray) -> float:
    started, done = time.perf_counter(), 0
    while done < len(rows) and time.perf_counter() - started < NAIVE_BUDGET_S:
        call(rows[done : done + 1])
        done += 1
    return done / (time.perf_counter() - started)


def offline_rate(call: Any, rows: np.ndarray) -> float:
    started = time.perf_counter()
    call(rows)
    return len(rows) / (time.perf_counter() - started)


async def run(events: int, repeat: int) -> None:
    runs = []
    for _ in range(repeat):  # each run on a fresh Redis: no run inherits another's streams or memory
        with tempfile.TemporaryDirectory(prefix="mlplane-bench-") as tmp:
            server = EmbeddedRedisServer(Path(tmp) / "redis")
            url = await server.start()
            redis = redis_client(url)  # the client the daemon uses, for the bare loop and the pipeline alike
            try:
                runs.append(await bench(redis, Path(tmp), events))
            finally:
                await redis.aclose()
                await server.stop()
    report("inference", f"Streaming inference: one consumer, events through Redis, median of {repeat} run(s)",
           ["path", "events/s", "vs bare (a)", "p50 ms @half", "p99 ms @half", "naive events/s (b)", "vs naive",
            "offline rows/s (c)"], table(runs), {"events": events, "runs": runs})


def table(runs: list[dict[str, Any]]) -> list[list[Any]]:
    """Medians over the runs; each ratio is the median of the runs' ratios (each taken within one run)."""
    def median(path: str, key: str) -> float:
        return statistics.median(r[path][key] for r in runs)

    def vs_bare(path: str) -> float:
        return statistics.median(r[path]["events_per_s"] / r["bare"]["events_per_s"] for r in runs)

    def vs_naive(path: str) -> float:
        return statistics.median(r[path]["events_per_s"] / r[path]["naive_events_per_s"] for r in runs)

    rows = [["bare transport (a)", median("bare", "events_per_s"), "1.00x", median("bare", "p50_ms"),
             median("bare", "p99_ms"), "", "", ""]]
    for algorithm in [a for a in FITS if a in runs[0]]:
        rows.append([f"{algorithm} pipeline", median(algorithm, "events_per_s"), f"{vs_bare(algorithm):.2f}x",
                     median(algorithm, "p50_ms"), median(algorithm, "p99_ms"),
                     median(algorithm, "naive_events_per_s"), f"{vs_naive(algorithm):,.0f}x",
                     median(algorithm, "offline_rows_per_s")])
    return rows


async def bench(redis: aioredis.Redis, root: Path, n: int) -> dict[str, Any]:
    registry = rig.Registry(root / "artifacts")
    pool = ProcessPoolExecutor(1, mp_context=get_context("forkserver"))
    chosen, note = backends(pool)

    def bare_loop(k: int) -> Any:
        return rig.bare_loop(redis, f"{NS}stream:bare", f"{NS}signals:bare", k)

    gc.freeze()  # as for the pipelines below
    bare = await throughput(redis, "bare", n, bare_loop)

    async def bare_ready() -> Any:
        return bare_loop

    bare_half = await half_load(redis, "bare", n // 2, bare / 2, bare_ready)
    data: dict[str, Any] = {"bare": {"events_per_s": bare, **bare_half}, "note": note}
    for algorithm in [a for a in FITS if a in chosen]:
        model, files = await fit(algorithm, chosen[algorithm])
        await registry.publish(algorithm.replace("_", "-"), algorithm, files)
        data[algorithm] = await bench_model(redis, registry, algorithm, model, files, chosen[algorithm], n, bare)
    pool.shutdown()
    return data


async def bench_model(redis: aioredis.Redis, registry: rig.Registry, algorithm: str, model: Any,
                      files: dict[str, bytes], backend: Any, n: int, bare: float) -> dict[str, Any]:
    name = algorithm.replace("_", "-")
    signals = f"{NS}signals:{name}"

    async def warmed() -> Any:
        """A consumer as PipelineRunner starts one: model loaded, then gc.freeze (no full-GC pauses
        over library objects); it stops once the signals stream holds k more entries."""
        svc = rig.service(redis, NS, registry, name, backend)
        await svc.warm_up()
        gc.freeze()
        already = await redis.xlen(signals)
        return lambda k: rig.run_service(svc, redis, signals, already + k)

    rate = await throughput(redis, name, n, await warmed())
    half = await half_load(redis, name, n // 2, rate / 2, warmed)
    features = np.random.default_rng(0).normal(size=(n, len(rig.COLUMNS)))
    call = rig.naive_call(algorithm, model, files)
    onnx = rig.onnx_call(files["model.onnx"]) if "model.onnx" in files else call
    return {"events_per_s": rate, "vs_bare": rate / bare, **half, "onnx": "model.onnx" in files,
            "naive_events_per_s": naive_rate(call, features), "offline_rows_per_s": offline_rate(onnx, features)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--quick", action="store_true", help="10k events")
    parser.add_argument("--repeat", type=int, default=1, help="runs; each figure is their median")
    args = parser.parse_args()
    asyncio.run(run(10_000 if args.quick else args.events, max(1, args.repeat)))


if __name__ == "__main__":
    main()
