"""Window features: the vectorized batch computation equals a naive per-window loop (scipy/numpy)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from domain.services import features
from domain.types.pipelines import FeatureSpec

pytestmark = pytest.mark.unit
AGGS = ["last", "mean", "std", "min", "max", "sum", "count", "slope", "skew", "kurtosis"]


def naive(window: list[tuple[float, list[float]]], field: int, spec: FeatureSpec) -> float:
    t = np.array([r[0] for r in window])
    v = np.array([r[1][field] for r in window])
    flat = np.var(v) <= 1e-12 * max(1.0, np.mean(v) ** 2)
    if spec.agg == "percentile":
        return float(np.percentile(v, spec.q))
    if spec.agg == "slope":
        return 0.0 if np.var(t) * len(t) <= 1e-12 else float(stats.linregress(t, v).slope)
    if spec.agg in ("skew", "kurtosis"):
        return 0.0 if flat else float(getattr(stats, spec.agg)(v))
    simple = {"last": v[-1], "mean": np.mean(v), "std": np.std(v), "min": np.min(v), "max": np.max(v),
              "sum": np.sum(v), "count": len(v)}
    return float(simple[spec.agg])


Windows = list[list[tuple[float, list[float]]]]


def random_windows(rng: np.random.Generator, n: int, rows: int | None = None) -> Windows:
    """n windows of `rows` rows each, or of random lengths (then some are padded in the batch)."""
    windows = []
    for _ in range(n):
        length = rows or int(rng.integers(1, 30))
        times = np.cumsum(rng.uniform(0.1, 2.0, length)) + 1.7e9
        a, b = rng.normal(size=length), rng.exponential(size=length)
        windows.append([(float(t), [float(x), float(y)]) for t, x, y in zip(times, a, b, strict=True)])
    return windows


@pytest.mark.parametrize("length", [None, 20], ids=["padded", "every-window-full"])
def test_vectorized_features_equal_the_naive_loop(length: int | None) -> None:
    rng = np.random.default_rng(3)
    windows = random_windows(rng, 200, length)
    assert len({len(w) for w in windows}) == (1 if length else 29)
    specs = [FeatureSpec(f"{f}_{a}", f, a) for f in ("a", "b") for a in AGGS]
    specs += [FeatureSpec("a_p90", "a", "percentile", 90.0), FeatureSpec("b_p10", "b", "percentile", 10.0)]
    matrix = features.compute(windows, ("a", "b"), specs)
    expected = np.array([[naive(w, ("a", "b").index(s.field), s) for s in specs] for w in windows])
    np.testing.assert_allclose(matrix, expected, rtol=1e-9, atol=1e-9)


def test_a_window_without_spread_has_zero_skew_kurtosis_and_slope() -> None:
    window = [(1.0, [2.0]), (1.0, [2.0]), (1.0, [2.0])]
    specs = [FeatureSpec("s", "x", "skew"), FeatureSpec("k", "x", "kurtosis"), FeatureSpec("m", "x", "slope")]
    assert features.compute([window], ("x",), specs).tolist() == [[0.0, 0.0, 0.0]]


def test_columns_follow_the_requested_order() -> None:
    window = [(1.0, [1.0, 10.0]), (2.0, [3.0, 30.0])]
    specs = [FeatureSpec("y", "y"), FeatureSpec("x_sum", "x", "sum")]
    assert features.compute([window], ("x", "y"), specs).tolist() == [[30.0, 4.0]]
