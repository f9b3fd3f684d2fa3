"""What a retrain asks for, and the champion/challenger decision (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from domain.services.data_prep import SplitRecord
from domain.types.errors import InvalidSpec
from domain.types.identifiers import model_name
from domain.types.training import Task

# The holdout metrics every model backend reports per task (adapters/_shared/metrics.py); roc_auc
# is left out on a single-class holdout, which only the retrain itself can find out.
TASK_METRICS = {Task.CLASSIFICATION: ("accuracy", "precision", "recall", "f1", "log_loss", "roc_auc"),
                Task.REGRESSION: ("rmse", "mae", "r2")}
LOWER_IS_BETTER = frozenset({"rmse", "mae", "log_loss"})
DEFAULT_METRIC = {Task.CLASSIFICATION: ("roc_auc", "accuracy"), Task.REGRESSION: ("rmse",)}


@dataclass(frozen=True)
class RetrainRequest:
    model: str
    alias: str = "production"
    metric: str | None = None
    tolerance: float = 0.0
    min_new_rows: int = 0

    def __post_init__(self) -> None:
        model_name(self.model)
        model_name(self.alias, "alias")
        if self.tolerance < 0 or self.min_new_rows < 0:
            raise InvalidSpec("tolerance and min_new_rows must not be negative")
        known = sorted({m for names in TASK_METRICS.values() for m in names})
        if self.metric is not None and self.metric not in known:
            raise InvalidSpec(f"unknown metric {self.metric!r}: use one of {', '.join(known)}",
                              {"field": "metric", "allowed": known})

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> RetrainRequest:
        return cls(**{k: raw[k] for k in ("model", "alias", "metric", "tolerance", "min_new_rows") if k in raw})


def check_metric(metric: str | None, task: Task) -> None:
    """Before any training: the metric a retrain compares on must be one the model's task reports."""
    allowed = list(TASK_METRICS[task])
    if metric is not None and metric not in allowed:
        raise InvalidSpec(f"metric {metric!r} is not reported for {task.value} models: use one of "
                          f"{', '.join(allowed)}", {"field": "metric", "task": task.value, "allowed": allowed})


def decide(request: RetrainRequest, task: Task, challenger: Mapping[str, float], champion: Mapping[str, float],
           champion_version: int, bias: str | None = None) -> dict[str, Any]:
    """Promote only a better challenger: with tolerance t, one whose metric beats the champion's minus t
    (plus t where lower is better), so with t = 0 an equal challenger is not promoted.

    `bias`: why the champion's score may be inflated (holdout_bias), recorded with the decision. A
    challenger that beats even that score is better; one that does not may or may not be."""
    metric = request.metric or next(m for m in DEFAULT_METRIC[task] if m in challenger or m == "accuracy")
    if metric not in challenger or metric not in champion:
        raise InvalidSpec(f"metric {metric!r} is not reported for both models; available: {sorted(challenger)}",
                          {"field": "metric"})
    new, old, tolerance = float(challenger[metric]), float(champion[metric]), request.tolerance
    lower = metric in LOWER_IS_BETTER
    promote = new < old + tolerance if lower else new > old - tolerance
    better = new < old if lower else new > old
    verb = "not better than" if not promote else "better than" if better else "within the tolerance of"
    summary = f"{metric} {new:.6g} vs champion v{champion_version} {old:.6g}: {verb} (tolerance {tolerance:g})"
    if bias:
        summary += f"; the comparison favours the champion: {bias}"
    return {"metric": metric, "challenger": new, "champion": old, "tolerance": tolerance,
            "lower_is_better": lower, "promote": promote, "champion_version": champion_version,
            "fair": bias is None, **({"bias": bias} if bias else {}), "summary": summary}


def holdout_bias(champion_version: int, champion: SplitRecord | None, challenger: SplitRecord) -> str | None:
    """Why the retrain's holdout may hold rows the champion trained on (its score would then be
    inflated), or None when it holds none: the split keeps the champion's training rows (by row
    hash, plus those its manifest lists) on the training side."""
    if champion is None:
        return (f"v{champion_version} was trained before rows were split by their content, so some holdout rows "
                "may be rows it trained on")
    unlisted = champion.kept_total - len(champion.kept)
    if unlisted > 0:
        return (f"{unlisted} rows v{champion_version} trained on are not listed in its manifest, and may be in "
                "the holdout")
    if challenger.borrowed:
        return (f"the holdout took {challenger.borrowed} rows beyond the validation fraction (too few rows were "
                f"within it), which v{champion_version} may have trained on")
    return None
