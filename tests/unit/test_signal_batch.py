"""SignalBatch writes exactly what Signal.to_dict writes, and still reads as Signals for rules."""

from __future__ import annotations

import orjson
import pytest

from adapters.redis_streams.signals import _row, _rows
from domain.types.signal_batch import SignalBatch
from domain.types.streams import Prediction

pytestmark = pytest.mark.unit


def batch() -> SignalBatch:
    return SignalBatch(["1-0", "1-1"], ["a", "b"], 3, [Prediction(0.25, 0), Prediction(0.9, "yes")],
                       ["x_last", "x_mean"], [[1.0, 0.5], [2.0, 1.5]], [12.345, 0.001])


def test_rows_are_the_signals_to_dict_in_order() -> None:
    signals = batch()
    assert signals.rows() == [s.to_dict() for s in signals]
    assert signals[1].features == {"x_last": 2.0, "x_mean": 1.5} and signals[1].label == "yes"
    assert [s.event_id for s in signals[0:2]] == ["1-0", "1-1"]


def test_the_sink_writes_the_same_bytes_for_a_batch_and_for_signal_objects() -> None:
    signals = batch()
    as_batch = [orjson.dumps(r) for r in _rows(signals)]
    as_objects = [orjson.dumps(_row(s)) for s in list(signals)]
    assert as_batch == as_objects
