"""The baseline: the same read + clean + fit + evaluate + save as a training job, as a plain script."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import skops.io as sio
from sklearn.metrics import accuracy_score, roc_auc_score
from sklearn.tree import DecisionTreeClassifier


def direct_training_seconds(database: Path, spec: dict[str, Any]) -> float:
    started = time.perf_counter()
    source = spec["source"]
    connection = duckdb.connect(str(database), read_only=True)
    frame = connection.sql(f'SELECT * FROM "{source["table"]}"').to_arrow_table().to_pandas()
    connection.close()
    columns = [*source["features"], source["label"]]
    frame = frame.drop_duplicates().dropna(subset=columns)
    x, y = frame[source["features"]].to_numpy(dtype=np.float64), frame[source["label"]].to_numpy()
    order = np.random.default_rng(7).permutation(len(x))
    cut = round(len(x) * 0.2)
    test, train = order[:cut], order[cut:]
    model = DecisionTreeClassifier(max_depth=spec["hyperparameters"]["max_depth"], random_state=0)
    model.fit(x[train], y[train])
    accuracy_score(y[test], model.predict(x[test]))
    roc_auc_score(y[test], model.predict_proba(x[test])[:, 1])
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "model.skops").write_bytes(sio.dumps(model))
    return time.perf_counter() - started
