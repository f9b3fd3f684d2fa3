"""What to train: the training specification as the domain sees it (validated at the edge)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from domain.types.errors import InvalidSpec
from domain.types.identifiers import model_name, sql_identifier


class Task(StrEnum):
    CLASSIFICATION = "classification"
    REGRESSION = "regression"


@dataclass(frozen=True)
class SourceSpec:
    table: str
    features: tuple[str, ...]
    label: str

    def __post_init__(self) -> None:
        sql_identifier(self.table, "table")
        if not self.features:
            raise InvalidSpec("source.features must name at least one column", {"field": "source.features"})
        for column in (*self.features, self.label):
            sql_identifier(column, "column")
        if len(set(self.features)) != len(self.features):
            raise InvalidSpec("source.features lists a column twice", {"field": "source.features"})
        if self.label in self.features:
            raise InvalidSpec(
                f"label {self.label!r} is also listed as a feature", {"field": "source.label"}
            )

    @property
    def columns(self) -> tuple[str, ...]:
        return (*self.features, self.label)


@dataclass(frozen=True)
class ValidationSpec:
    fraction: float = 0.2
    seed: int = 7

    def __post_init__(self) -> None:
        if not 0.0 < self.fraction < 1.0:
            raise InvalidSpec("validation.fraction must be between 0 and 1", {"field": "validation.fraction"})
        # numpy's generator takes any non-negative integer (a negative one fails after the 202); 2^128 is
        # the entropy it keeps, and room for any seed a person or a timestamp makes.
        if not 0 <= self.seed < 2**128:
            raise InvalidSpec("validation.seed must be an integer in 0..2^128-1", {"field": "validation.seed"})


@dataclass(frozen=True)
class TrainingSpec:
    model_name: str
    algorithm: str
    task: Task
    source: SourceSpec
    hyperparameters: Mapping[str, Any] = field(default_factory=dict)
    validation: ValidationSpec = field(default_factory=ValidationSpec)

    def __post_init__(self) -> None:
        model_name(self.model_name)

    def to_dict(self) -> dict[str, Any]:
        return {
            "model_name": self.model_name,
            "algorithm": self.algorithm,
            "task": self.task.value,
            "source": {
                "table": self.source.table,
                "features": list(self.source.features),
                "label": self.source.label,
            },
            "hyperparameters": dict(self.hyperparameters),
            "validation": {"fraction": self.validation.fraction, "seed": self.validation.seed},
        }

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> TrainingSpec:
        source = raw["source"]
        validation = raw.get("validation") or {}
        return cls(
            model_name=raw["model_name"],
            algorithm=raw["algorithm"],
            task=Task(raw["task"]),
            source=SourceSpec(source["table"], tuple(source["features"]), source["label"]),
            hyperparameters=dict(raw.get("hyperparameters") or {}),
            validation=ValidationSpec(**validation),
        )
