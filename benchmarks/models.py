"""Model backends benchmark: fit, save/load and predict throughput per algorithm, with the backend
wrapper measured NEXT TO the raw library call (estimator.predict, Keras, onnxruntime) in the same
run, so the wrapper's cost shows as a ratio rather than against a figure from another machine.

Run: `python -m benchmarks.models [--rows 1000000] [--quick]` (--quick: 100k rows, default forest).
Data: generated, 8 float features, binary classification. Fits go through the backend with a
one-process pool (the daemon's path: data pickled to the worker, model pickled back).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np

from adapters.sklearn.backend import SklearnModelBackend
from benchmarks._report import report
from domain.types.dataset import Dataset
from domain.types.training import SourceSpec, Task, TrainingSpec

COLUMNS = tuple(f"f{i}" for i in range(8))
BATCHES = (1, 64, 4096, 65_536)
CALL_BUDGET_S = 0.6  # per (path, batch): enough calls for a stable median, bounded for slow paths
# Full-size fits are slow on 2 cores: these shrink them, and the table says so.
FULL = {"decision_tree": {}, "random_forest": {"n_estimators": 20}, "gradient_boosting": {},
        "keras_mlp": {"epochs": 2, "batch_size": 1024}}
QUICK = {**FULL, "random_forest": {}, "keras_mlp": {"epochs": 3, "batch_size": 1024}}


def generate(rows: int, seed: int) -> Dataset:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, len(COLUMNS)))
    y = (x[:, 0] + 0.5 * x[:, 1] * x[:, 2] + np.sin(x[:, 3]) + rng.normal(scale=0.3, size=rows) > 0)
    return Dataset(x, y.astype(np.int64), COLUMNS)


def backends(pool: ProcessPoolExecutor) -> tuple[dict[str, Any], str]:
    """Algorithm -> backend; keras_mlp only when its adapter imports (TensorFlow is optional)."""
    sklearn = SklearnModelBackend(pool)
    chosen: dict[str, Any] = {name: sklearn for name in ("decision_tree", "random_forest", "gradient_boosting")}
    try:
        from adapters.keras.backend import KerasModelBackend
    except Exception as exc:  # any import failure: benchmark the rest and say why
        return chosen, f"keras_mlp skipped: {type(exc).__name__}: {exc}"
    chosen["keras_mlp"] = KerasModelBackend(pool)
    return chosen, ""


async def timed(action: Callable[[], Awaitable[Any]], repeats: int, budget_s: float) -> tuple[float, Any, int]:
    """Median seconds over up to `repeats` runs, stopping early once `budget_s` is spent."""
    samples, result = [], None
    while len(samples) < repeats and (not samples or sum(samples) < budget_s):
        started = time.perf_counter()
        result = await action()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples), result, len(samples)


async def rates(calls: dict[str, Callable[[np.ndarray], Any]], x: np.ndarray, batch: int) -> dict[str, float]:
    """Rows per second of each call on `batch` rows, from the median call time. The calls take
    turns, so they share the machine's state: sklearn's OpenMP thread teams (one per calling
    thread) spin after use and slow whichever path runs next, which made order matter."""
    samples: dict[str, list[float]] = {name: [] for name in calls}
    spent, rounds = 0.0, 0
    while rounds < 3 or (spent < CALL_BUDGET_S * len(calls) and rounds < 2000):
        chunk = x[(rounds * batch) % (len(x) - batch + 1):][:batch]
        for name, call in calls.items():
            started = time.perf_counter()
            result = call(chunk)
            if asyncio.iscoroutine(result):
                await result
            samples[name].append(time.perf_counter() - started)
            spent += samples[name][-1]
        rounds += 1
    return {name: batch / statistics.median(times) for name, times in samples.items()}


def library_calls(algorithm: str, model: Any, files: dict[str, bytes]) -> dict[str, Callable[[np.ndarray], Any]]:
    """The raw calls the wrapper stands on: the library's own predict, and onnxruntime on model.onnx."""
    calls: dict[str, Callable[[np.ndarray], Any]] = {}
    if algorithm == "keras_mlp":
        calls["library"] = _keras_call(files["model.keras"])
    else:
        calls["library"] = model.predict
    if "model.onnx" in files:
        import onnxruntime as ort

        session = ort.InferenceSession(files["model.onnx"], providers=["CPUExecutionProvider"])
        name = session.get_inputs()[0].name
        calls["onnxruntime"] = lambda x: session.run(None, {name: x.astype(np.float32)})
    return calls


def _keras_call(keras_file: bytes) -> Callable[[np.ndarray], Any]:
    import keras

    path = Path(tempfile.mkdtemp(prefix="mlplane-bench-"), "model.keras")
    path.write_bytes(keras_file)
    model = keras.saving.load_model(path, safe_mode=True, compile=False)
    return lambda x: model.predict_on_batch(x.astype(np.float32))  # the fastest public Keras call


async def bench(algorithm: str, backend: Any, train: Dataset, holdout: Dataset, quick: bool) -> list[list[Any]]:
    overrides = (QUICK if quick else FULL)[algorithm]
    spec = TrainingSpec("bench", algorithm, Task.CLASSIFICATION, SourceSpec("t", COLUMNS, "y"), overrides)
    print(f"{algorithm}: fitting {train.rows:,} rows {overrides or ''}", file=sys.stderr, flush=True)
    fit_s, model, fits = await timed(lambda: backend.fit(spec, train, _no_progress), 3, 15)
    save_s, saved, saves = await timed(lambda: backend.serialize(model, holdout.features[:1000]), 3, 20)
    load_s, _, loads = await timed(lambda: backend.deserialize(algorithm, saved.files), 3, 20)
    calls = library_calls(algorithm, model, dict(saved.files))
    knobs = ", ".join(f"{k}={v}" for k, v in overrides.items()) or "defaults"
    notes = f"{knobs}; runs fit/save/load {fits}/{saves}/{loads}; onnx {_onnx_note(saved.notes)}"
    rows = []
    for batch in BATCHES:
        rate = await rates({"wrapper": lambda x: backend.predict(model, x), **calls}, holdout.features, batch)
        wrapper, library, onnx = rate["wrapper"], rate["library"], rate.get("onnxruntime")
        first = batch == BATCHES[0]
        rows.append([algorithm if first else "", f"{fit_s:.1f}" if first else "", f"{save_s:.2f}" if first else "",
                     f"{load_s:.2f}" if first else "", _sizes(saved.files) if first else "", batch,
                     _rate(wrapper), _rate(library), f"{library / wrapper:.1f}x", _rate(onnx), notes if first else ""])
    return rows


async def run(rows: int, quick: bool) -> None:
    train, holdout = generate(rows, 1), generate(max(BATCHES), 2)
    pool = ProcessPoolExecutor(1, mp_context=get_context("forkserver"))
    chosen, skipped = backends(pool)
    table: list[list[Any]] = []
    try:
        warm_up = TrainingSpec("bench", "decision_tree", Task.CLASSIFICATION, SourceSpec("t", COLUMNS, "y"))
        await chosen["decision_tree"].fit(warm_up, generate(1000, 3), _no_progress)  # worker start, imports
        for algorithm, backend in chosen.items():
            table += await bench(algorithm, backend, train, holdout, quick)
    finally:
        for backend in set(chosen.values()):
            backend.close()
        pool.shutdown(cancel_futures=True)
    columns = ["algorithm", "fit s", "save s", "load s", "files MiB", "batch", "wrapper rows/s",
               "library rows/s", "library / wrapper", "onnxruntime rows/s", "notes"]
    title = f"Model backends: {rows:,} training rows, 8 features, medians" + (f"; {skipped}" if skipped else "")
    report("models", title, columns, table, {"rows": rows, "quick": quick, "columns": columns, "table": table})


def _sizes(files: Any) -> str:
    return ", ".join(f"{name.split('.')[-1]} {len(data) / 2**20:.2f}" for name, data in sorted(files.items())
                     if name != "model.json")


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def _onnx_note(notes: Any) -> str:
    onnx = dict(notes.get("onnx", {}))
    return f"skipped: {onnx['skipped'][:60]}" if "skipped" in onnx else f"diff {onnx.get('max_abs_diff', 0):.0e}"


async def _no_progress(stage: str, fraction: float, extra: Any) -> None:
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=None, help="training rows (default 1M, --quick 100k)")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("COLUMNS", "200")  # rich would otherwise wrap the wide table to 80 columns
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's start-up chatter would bury the table
    asyncio.run(run(args.rows or (100_000 if args.quick else 1_000_000), args.quick))


if __name__ == "__main__":
    main()
