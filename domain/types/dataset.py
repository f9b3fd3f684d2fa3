"""In-memory training data handed to a model backend: a feature matrix and a label vector."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt


@dataclass(frozen=True)
class Dataset:
    features: npt.NDArray[np.float64]
    labels: npt.NDArray[np.generic]
    feature_names: tuple[str, ...]

    @property
    def rows(self) -> int:
        return int(self.features.shape[0])
