"""Window features computed for a whole micro-batch at once (numpy), not event by event.

Windows of different lengths are packed into one NaN-padded array (events x window x fields), and
every aggregation is a nan-aware reduction along the window axis. Conventions (shared with the
naive reference in the tests): std/skew/kurtosis are population moments (scipy's defaults,
bias=True, Fisher kurtosis); skew, kurtosis and slope are 0 where the window has no spread;
slope is per second of event time; percentiles interpolate linearly.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from domain.types.pipelines import FeatureSpec
from ports.window_store import Window, WindowBatch

Array = npt.NDArray[np.float64]


class _Reducers(NamedTuple):
    """Reductions along the window axis: NaN-aware only when some window is padded (event values
    are finite, parse_batch refuses the rest), since the nan* forms copy and mask every block."""

    mean: Callable[..., Any]
    sum: Callable[..., Any]
    min: Callable[..., Any]
    max: Callable[..., Any]


_DENSE = _Reducers(np.mean, np.sum, np.min, np.max)
_PADDED = _Reducers(np.nanmean, np.nansum, np.nanmin, np.nanmax)


def pack(windows: Sequence[Window], n_fields: int) -> tuple[Array, Array, npt.NDArray[np.int64]]:
    """(values [n, L, f], times [n, L], lengths [n]) padded with NaN after each window's end: one
    gather from the batch's flat rows (no per-event Python), windows of any adapter accepted.
    The gather reads a clipped row index and the padding is written over it afterwards: masking
    with np.where over the whole [n, L, f] block cost 25x the gather itself."""
    batch = WindowBatch.of(windows, n_fields)
    lengths = batch.lengths
    width = int(lengths.max(initial=1))
    if not len(batch.times):
        return np.full((len(batch), width, n_fields), np.nan), np.full((len(batch), width), np.nan), lengths
    rows = np.minimum(batch.starts[:, None] + np.arange(width), len(batch.times) - 1)
    values, times = np.take(batch.values, rows, axis=0), np.take(batch.times, rows)
    if int(lengths.min(initial=width)) < width:
        padding = np.arange(width) >= lengths[:, None]
        values[padding], times[padding] = np.nan, np.nan
    return values, times, lengths


def compute(windows: Sequence[Window], fields: Sequence[str], specs: Sequence[FeatureSpec]) -> Array:
    """Feature matrix [events, len(specs)], columns in `specs` order."""
    values, times, lengths = pack(windows, len(fields))
    column = {name: i for i, name in enumerate(fields)}
    out = np.empty((len(windows), len(specs)))
    r = _DENSE if int(lengths.min(initial=values.shape[1])) == values.shape[1] else _PADDED
    moments: dict[int, tuple[Array, Array]] = {}  # per field: (mean, centred values), computed once
    for j, spec in enumerate(specs):
        f = column[spec.field]
        v = values[:, :, f]
        if spec.agg in ("std", "skew", "kurtosis", "mean"):
            moments.setdefault(f, _centred(v, r))
        out[:, j] = _aggregate(spec, v, times, lengths, moments.get(f), r)
    return out


def _aggregate(spec: FeatureSpec, v: Array, times: Array, lengths: npt.NDArray[np.int64],
               moment: tuple[Array, Array] | None, r: _Reducers) -> Array:
    agg = spec.agg
    if agg == "last":
        return v[np.arange(len(v)), np.maximum(lengths - 1, 0)]
    if agg == "count":
        return lengths.astype(np.float64)
    if agg == "min":
        return np.asarray(r.min(v, axis=1), dtype=np.float64)
    if agg == "max":
        return np.asarray(r.max(v, axis=1), dtype=np.float64)
    if agg == "sum":
        return np.asarray(r.sum(v, axis=1), dtype=np.float64)
    if agg == "percentile":
        return _percentile(v, lengths, spec.q or 0.0)
    if agg == "slope":
        return _slope(v, times, r)
    assert moment is not None
    mean, centred = moment
    return _moment(agg, mean, centred, r)


def _percentile(v: Array, lengths: npt.NDArray[np.int64], q: float) -> Array:
    """Linear interpolation like np.percentile, per row: NaN padding sorts last, so each row's
    values are its first `length` sorted entries (np.nanpercentile loops over rows in Python)."""
    ordered = np.sort(v, axis=1)
    position = (np.maximum(lengths, 1) - 1) * (q / 100.0)
    low = np.floor(position).astype(np.int64)
    high = np.minimum(low + 1, np.maximum(lengths - 1, 0))
    rows = np.arange(len(v))
    below, above = ordered[rows, low], ordered[rows, high]
    return np.asarray(below + (above - below) * (position - low), dtype=np.float64)


def _centred(v: Array, r: _Reducers) -> tuple[Array, Array]:
    mean = r.mean(v, axis=1)
    return mean, v - mean[:, None]


def _moment(agg: str, mean: Array, centred: Array, r: _Reducers) -> Array:
    if agg == "mean":
        return mean
    m2 = r.mean(centred**2, axis=1)
    if agg == "std":
        return np.asarray(np.sqrt(m2), dtype=np.float64)
    flat = m2 <= 1e-12 * np.maximum(1.0, mean**2)  # no spread: skew/kurtosis are defined as 0
    safe = np.where(flat, 1.0, m2)
    if agg == "skew":
        result = r.mean(centred**3, axis=1) / safe**1.5
    else:
        result = r.mean(centred**4, axis=1) / safe**2 - 3.0
    return np.asarray(np.where(flat, 0.0, result), dtype=np.float64)


def _slope(v: Array, times: Array, r: _Reducers) -> Array:
    """Least-squares slope of value over time, per window, with the padding masked out."""
    t = times - r.mean(times, axis=1)[:, None]
    c = v - r.mean(v, axis=1)[:, None]
    denominator = r.sum(t * t, axis=1)
    numerator = r.sum(t * c, axis=1)
    flat = denominator <= 1e-12
    return np.asarray(np.where(flat, 0.0, numerator / np.where(flat, 1.0, denominator)), dtype=np.float64)
