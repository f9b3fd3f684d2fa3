"""Request bodies as pydantic models: validated at the edge, then turned into domain types."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from domain.types.lifecycle import MAX_RETENTION_DAYS
from domain.types.models import MAX_VERSION
from domain.types.training import SourceSpec, Task, TrainingSpec, ValidationSpec

_NAME = r"^[A-Za-z][A-Za-z0-9_-]{0,62}$"
_IDENT = r"^[A-Za-z_][A-Za-z0-9_]{0,127}$"


class _Strict(BaseModel):
    # NaN and Infinity (which Python's JSON reader accepts) are refused: they pass every range check
    # by comparing false, and a response holding them is not JSON. strict: a value of the wrong JSON type
    # is refused, not converted ("3" or 3.0 or true for a version, "yes" for a flag), as the pipeline
    # bodies do; an integer still passes where a number is expected.
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, strict=True)


class SourceIn(_Strict):
    table: str = Field(pattern=_IDENT, description="warehouse table to read")
    features: list[str] = Field(min_length=1, max_length=1000)
    label: str = Field(pattern=_IDENT)


class ValidationIn(_Strict):
    fraction: float = Field(default=0.2, gt=0.0, lt=1.0)
    seed: int = 7


class TrainingSpecIn(_Strict):
    model_name: str = Field(pattern=_NAME, description="letters, digits, '-', '_'")
    algorithm: str = Field(min_length=1, max_length=64)
    task: Literal["classification", "regression"]
    source: SourceIn
    hyperparameters: dict[str, Any] = Field(default_factory=dict)
    validation: ValidationIn = Field(default_factory=ValidationIn)

    def to_domain(self) -> TrainingSpec:
        return TrainingSpec(
            model_name=self.model_name,
            algorithm=self.algorithm,
            task=Task(self.task),
            source=SourceSpec(self.source.table, tuple(self.source.features), self.source.label),
            hyperparameters=self.hyperparameters,
            validation=ValidationSpec(self.validation.fraction, self.validation.seed),
        )


class AliasMoveIn(_Strict):
    version: int = Field(ge=1, le=MAX_VERSION)
    expected_version: int | None = Field(default=None, ge=1, le=MAX_VERSION,
                                         description="null: the alias must not exist yet")
    reason: str = Field(default="", max_length=500)
    by: str = Field(default="api", max_length=100, description="who moves it (recorded in the audit trail)")


class RetentionPolicyIn(_Strict):
    keep_last: int = Field(default=5, ge=1)
    keep_days: float = Field(default=30.0, ge=0, le=MAX_RETENTION_DAYS)
    alias_days: float = Field(default=30.0, ge=0, le=MAX_RETENTION_DAYS)


class RetrainIn(_Strict):
    alias: str = Field(default="production", pattern=_NAME)
    metric: str | None = Field(default=None, max_length=32)
    tolerance: float = Field(default=0.0, ge=0)
    min_new_rows: int = Field(default=0, ge=0)


class ScheduleIn(_Strict):
    cron: str = Field(default="0 3 * * 1", max_length=100, description="five-field cron; default Mondays 03:00")
    timezone: str = Field(default="UTC", max_length=64, description="IANA time zone the cron is read in")
    enabled: bool = True
    retrain: RetrainIn = Field(default_factory=RetrainIn)
