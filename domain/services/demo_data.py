"""Synthetic `demo_events`: something to train on, generated in code with a fixed seed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # imported where a frame is built: the daemon imports this module for its names
    import pandas as pd

DEMO_TABLE = "demo_events"
FEATURES = tuple(f"f{i}" for i in range(8))
_WEIGHTS = np.array([1.5, -2.0, 0.8, 0.0, 1.1, -0.6, 0.0, 0.4])


def demo_events(rows: int = 100_000, seed: int = 7, end: datetime | None = None) -> pd.DataFrame:
    """~200 entities, 30 days of events, a label learnable from f0..f7, ~0.5% duplicate rows and
    ~0.5% rows with a null feature, so cleaning has something to report."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    base_rows = rows - rows // 200
    features = rng.normal(size=(base_rows, len(FEATURES)))
    interaction = 1.2 * features[:, 0] * features[:, 2]  # a tree should beat a linear model here
    logits = features @ _WEIGHTS + interaction + rng.normal(scale=0.5, size=base_rows)
    end = end or datetime(2026, 11, 1, tzinfo=UTC)
    offsets = np.sort(rng.uniform(0, 30 * 24 * 3600, size=base_rows))
    frame = pd.DataFrame(features, columns=list(FEATURES))
    frame.insert(0, "ts", pd.to_datetime(end - timedelta(days=30)) + pd.to_timedelta(offsets, unit="s"))
    frame.insert(0, "entity_id", [f"e{i}" for i in rng.integers(0, 200, size=base_rows)])
    frame["label"] = (logits > 0).astype("int64")
    _blank_some(frame, rng)
    duplicates = frame.sample(n=rows - base_rows, random_state=seed)
    return pd.concat([frame, duplicates], ignore_index=True)


def _blank_some(frame: pd.DataFrame, rng: np.random.Generator) -> None:
    count = max(1, len(frame) // 200)
    rows = rng.choice(len(frame), size=count, replace=False)
    columns = rng.choice(list(FEATURES), size=count)
    for row, column in zip(rows, columns, strict=True):
        frame.loc[row, column] = np.nan
