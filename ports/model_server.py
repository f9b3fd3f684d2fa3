"""ModelServer port: turn a registered version's files into a fast batched predictor."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

import numpy as np
import numpy.typing as npt

from domain.types.models import Manifest
from domain.types.streams import Prediction


class Predictor(Protocol):
    """Predicts a whole batch in one call; rows are features in the model's feature order."""

    version: int

    async def predict(self, features: npt.NDArray[np.float64]) -> list[Prediction]: ...


class ModelServer(Protocol):
    """`load` returns None when this server cannot serve the version (e.g. no model.onnx), so the
    caller can fall back to the backend's native predict; PermanentError for corrupt files."""

    async def load(self, manifest: Manifest, files: Mapping[str, bytes]) -> Predictor | None: ...
