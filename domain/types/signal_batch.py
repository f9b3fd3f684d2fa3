"""A batch's signals as columns: written without one Signal object per event.

Building a Signal (and its features mapping) per event, then turning each into a dict for JSON,
cost more than predicting. A SignalBatch keeps the columns the pipeline already has and builds
the written rows in one pass; it is still a Sequence of Signal for rules and tests, which
materialize only the signals they look at.
"""

from __future__ import annotations

from typing import Any

from domain.types.column_batch import ColumnBatch
from domain.types.streams import Prediction, Signal


class SignalBatch(ColumnBatch[Signal]):
    def __init__(self, event_ids: list[str], entities: list[str], model_version: int,
                 predictions: list[Prediction], feature_names: list[str], features: list[list[float]],
                 latencies_ms: list[float]) -> None:
        """`latencies_ms` already rounded to the microsecond, as Signal.to_dict writes them."""
        self.event_ids, self.entities, self.model_version = event_ids, entities, model_version
        self.predictions, self.feature_names, self.features = predictions, feature_names, features
        self.latencies_ms = latencies_ms

    def __len__(self) -> int:
        return len(self.event_ids)

    def _row(self, i: int) -> Signal:
        p = self.predictions[i]
        return Signal(self.event_ids[i], self.entities[i], self.model_version, p.score, p.label,
                      dict(zip(self.feature_names, self.features[i], strict=True)), self.latencies_ms[i])

    def rows(self) -> list[dict[str, Any]]:
        """Every signal as Signal.to_dict would write it, in one pass."""
        names, version = self.feature_names, self.model_version
        return [{"event_id": event_id, "entity": entity, "model_version": version, "score": p.score,
                 "label": p.label, "features": dict(zip(names, row, strict=True)), "latency_ms": latency}
                for event_id, entity, p, row, latency in zip(self.event_ids, self.entities, self.predictions,
                                                               self.features, self.latencies_ms, strict=True)]
