"""ModelWatcher: which model version a pipeline serves, reloaded between batches when its alias moves.

A version whose feature list does not match the pipeline is refused: the pipeline keeps serving
the version it has and says so once on its `pipeline:{name}` topic. ONNX Runtime serves a version
when it carries a verified model.onnx; otherwise the backend's own predict does, batched.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from domain.services.aliases import AliasService
from domain.services.registry import ModelRegistry
from domain.types.errors import InvalidSpec, NotFound, TransientError
from domain.types.pipelines import FeatureSpec, PipelineConfig
from domain.types.streams import Prediction
from ports.clock import Clock
from ports.event_log import EventLog
from ports.model_backend import ModelBackend
from ports.model_server import ModelServer, Predictor

log = logging.getLogger(__name__)


class NoServableModel(TransientError):
    """The alias points nowhere servable yet; the consumer waits without acking anything."""

    code = "no_servable_model"


@dataclass(frozen=True)
class Served:
    version: int
    predictor: Predictor
    specs: tuple[FeatureSpec, ...]  # the pipeline's features in the model's input order


class NativePredictor:
    """The backend's predict, one call per batch; labels only, so the score is the label as a number."""

    def __init__(self, backend: ModelBackend, model: object, version: int) -> None:
        self._backend, self._model, self.version = backend, model, version

    async def predict(self, features: npt.NDArray[np.float64]) -> list[Prediction]:
        labels = await self._backend.predict(self._model, features)
        return [Prediction(_as_score(label), label.item() if hasattr(label, "item") else label) for label in labels]


def _as_score(label: Any) -> float:
    try:
        return float(label)
    except (TypeError, ValueError):
        return 1.0


class ModelWatcher:
    def __init__(self, config: PipelineConfig, registry: ModelRegistry, aliases: AliasService, server: ModelServer,
                 backend: ModelBackend, events: EventLog, clock: Clock, check_every_s: float = 0.5) -> None:
        self._config, self._registry, self._aliases = config, registry, aliases
        self._server, self._backend, self._events, self._clock = server, backend, events, clock
        self._check_every_s = check_every_s
        self._served: Served | None = None
        self._refused: int | None = None
        self._checked_at = float("-inf")

    async def current(self) -> Served:
        """The version to use for the next batch (checking the alias at most every check_every_s)."""
        now = self._clock.now().timestamp()
        if self._served is None or now - self._checked_at >= self._check_every_s:
            self._checked_at = now
            await self._refresh()
        if self._served is None:
            raise NoServableModel(f"{self._config.model}@{self._config.alias} has no servable version yet")
        return self._served

    async def _refresh(self) -> None:
        try:
            version = await self._aliases.current(self._config.model, self._config.alias)
        except NotFound:
            version = None
        if version is None or version == self._refused or (self._served and self._served.version == version):
            return
        try:
            self._served = await self._load(version)
            log.info("pipeline %s now serves %s v%s", self._config.name, self._config.model, version)
        except InvalidSpec as exc:
            self._refused = version
            await self._events.append(f"pipeline:{self._config.name}", "model_refused",
                                      {"version": version, "message": exc.message,
                                       "serving": self._served.version if self._served else None}, self._clock.now())

    async def _load(self, version: int) -> Served:
        manifest, files = await self._registry.load_files(self._config.model, version)
        model_features = list(manifest.spec.get("source", {}).get("features", []))
        self._config.check_model_features(model_features, version)
        by_name = {f.name: f for f in self._config.features}
        specs = tuple(by_name[name] for name in model_features)
        predictor = await self._server.load(manifest, files)
        if predictor is None:
            native = await self._backend.deserialize(manifest.algorithm, files)
            predictor = NativePredictor(self._backend, native, version)
        return Served(version, predictor, specs)
