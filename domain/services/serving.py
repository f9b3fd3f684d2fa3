"""ModelWatcher: which model version a pipeline serves, reloaded between batches when its alias moves.

A version whose feature list does not match the pipeline is refused: the pipeline keeps serving
the version it has, says so once on its `pipeline:{name}` topic and logs a warning with the reason.
A consumer with none loaded yet (a restart) serves instead the version the alias pointed to most
recently before that matches and still exists (retention keeps the versions pipelines serve), and
follows the alias again once it moves; with no such version it serves nothing and takes no events.
Each consumer's watcher states in the pipeline's stats what it serves, or why nothing, in a record
of its own: GET /v1/pipelines/{name} shows the highest version a live consumer serves, and says
`paused` with the reason only while none serves (one that serves nothing takes no events, so
another serving is all the pipeline needs), never a version that is not served.
ONNX Runtime serves a version when it carries a verified model.onnx; otherwise the backend's own
predict does, batched.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from domain.services.aliases import AliasService
from domain.services.registry import ModelRegistry
from domain.types.errors import IntegrityError, InvalidSpec, NotFound, TransientError
from domain.types.pipelines import FeatureSpec, PipelineConfig
from domain.types.streams import Prediction
from ports.clock import Clock
from ports.event_log import EventLog
from ports.model_backend import ModelBackend
from ports.model_server import ModelServer, Predictor
from ports.signal_sink import SignalSink

log = logging.getLogger(__name__)
# How long a consumer's serving record outlives its last renewal: the consumer renews it at a check
# (every batch attempt, and the runner's periodic `check`) once a third of this has passed, so only a
# dead consumer's record expires.
MARK_TTL_S = 30.0


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
    """`signals` and `holder` (this consumer's name): where the pipeline's stats learn what is served;
    without them (tests) nothing is reported."""

    def __init__(self, config: PipelineConfig, registry: ModelRegistry, aliases: AliasService, server: ModelServer,
                 backend: ModelBackend, events: EventLog, clock: Clock, check_every_s: float = 0.5,
                 signals: SignalSink | None = None, holder: str | None = None) -> None:
        self._config, self._registry, self._aliases = config, registry, aliases
        self._server, self._backend, self._events, self._clock = server, backend, events, clock
        self._check_every_s, self._signals = check_every_s, signals
        self._holder = holder or uuid.uuid4().hex[:12]
        self._served: Served | None = None
        self._target: int | None = None  # the version the alias pointed to at the last check
        self._refusal: tuple[int, str] | None = None  # the version last refused, and why
        self._reported: tuple[int | None, str | None] | None = None  # (version served, why none) last told
        self._reported_at = float("-inf")
        self._checked_at = float("-inf")
        self._lock = asyncio.Lock()

    async def current(self) -> Served:
        """The version to use for the next batch (checking the alias at most every check_every_s)."""
        await self.check()
        if self._served is None:
            raise NoServableModel(self.unservable_reason())
        return self._served

    async def check(self) -> None:
        """Follow the alias if a check is due, and tell the pipeline's stats what is served (or why
        nothing is). Also called periodically by the runner, so the stats stay true with no traffic."""
        async with self._lock:
            now = self._clock.now().timestamp()
            if self._served is None or now - self._checked_at >= self._check_every_s:
                self._checked_at = now
                await self._refresh()
            await self._report(now)

    def unservable_reason(self) -> str:
        where = f"{self._config.model}@{self._config.alias}"
        if self._refusal is not None and self._refusal[0] == self._target:
            return f"{where} {self._refusal[1]}, and none of the versions it pointed to before is left to serve"
        return f"{where} has no servable version yet"

    async def release(self) -> None:
        """A stopping consumer serves nothing: its serving record goes now (best effort; else it expires)."""
        async with self._lock:  # after a check in flight, which would write the record again
            if self._signals is not None and self._reported is not None:
                with contextlib.suppress(TransientError):
                    await self._signals.forget_serving(self._config.name, self._holder)
                self._reported = None

    async def _refresh(self) -> None:
        try:
            version = await self._aliases.current(self._config.model, self._config.alias)
        except NotFound:
            version = None
        self._target = version
        refused = self._refusal is not None and self._refusal[0] == version
        if version is None or refused or (self._served and self._served.version == version):
            return
        try:
            self._served = await self._load(version)
            log.info("pipeline %s now serves %s v%s", self._config.name, self._config.model, version)
        except InvalidSpec as exc:
            fell_back = self._served is None
            if fell_back:
                self._served = await self._earlier_servable(version)
            await self._refuse(version, exc, fell_back)

    async def _earlier_servable(self, refused: int) -> Served | None:
        """The version the alias pointed to most recently before `refused` that matches and still exists."""
        moves = await self._aliases.history(self._config.model, self._config.alias)
        onto_refused = [i for i, move in enumerate(moves) if move.to_version == refused]
        earlier = moves[:onto_refused[-1]] if onto_refused else moves
        for version in dict.fromkeys(move.to_version for move in reversed(earlier)):
            if version == refused:
                continue
            with contextlib.suppress(InvalidSpec, NotFound, IntegrityError):  # does not match, gone, or corrupt
                return await self._load(version)
        return None

    async def _refuse(self, version: int, exc: InvalidSpec, fell_back: bool) -> None:
        model_features = exc.details.get("model_features")
        why = (f"points to v{version}, whose features {list(model_features)} do not match the pipeline's "
               f"{list(self._config.feature_names)}" if model_features is not None
               else f"points to v{version}, which the pipeline cannot serve: {exc.message}")
        self._refusal = (version, why)
        serving = self._served.version if self._served else None
        then = ("it serves nothing and takes no events" if serving is None
                else f"it had none loaded and serves v{serving} instead, where the alias pointed before" if fell_back
                else f"it keeps serving v{serving}")
        log.warning("pipeline %s refuses a model version: %s@%s %s; %s", self._config.name, self._config.model,
                    self._config.alias, why, then)
        await self._events.append(f"pipeline:{self._config.name}", "model_refused",
                                  {"version": version, "message": exc.message, "serving": serving}, self._clock.now())

    async def _report(self, now: float) -> None:
        """Only on a change, or to renew the record: nothing is written per batch."""
        state: tuple[int | None, str | None] = \
            (self._served.version, None) if self._served else (None, self.unservable_reason())
        due = now - self._reported_at >= MARK_TTL_S / 3
        if self._signals is None or (state == self._reported and not due):
            return
        try:
            version, reason = state
            await self._signals.record_serving(self._config.name, self._holder, version, reason, MARK_TTL_S)
        except TransientError as exc:  # the stats lag; told again at the next check
            log.warning("pipeline %s: could not update its stats: %s", self._config.name, exc.message)
            return
        self._reported, self._reported_at = state, now

    async def _load(self, version: int) -> Served:
        manifest = await self._registry.get_version(self._config.model, version)
        model_features = list(manifest.spec.get("source", {}).get("features", []))
        self._config.check_model_features(model_features, version)  # before reading a file it would refuse
        manifest, files = await self._registry.load_files(self._config.model, version)
        by_name = {f.name: f for f in self._config.features}
        specs = tuple(by_name[name] for name in model_features)
        predictor = await self._server.load(manifest, files)
        if predictor is None:
            native = await self._backend.deserialize(manifest.algorithm, files)
            predictor = NativePredictor(self._backend, native, version)
        return Served(version, predictor, specs)
