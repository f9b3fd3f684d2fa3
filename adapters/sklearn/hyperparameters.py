"""Hyperparameters per algorithm as pydantic models: they validate specs AND publish JSON Schema."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class _Params(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DecisionTreeClassifierParams(_Params):
    criterion: Literal["gini", "entropy", "log_loss"] = "gini"
    max_depth: int | None = Field(default=12, ge=1, le=128, description="None grows until leaves are pure")
    min_samples_split: int = Field(default=2, ge=2)
    min_samples_leaf: int = Field(default=1, ge=1)
    class_weight: Literal["balanced"] | None = None
    random_state: int = 0


class DecisionTreeRegressorParams(_Params):
    criterion: Literal["squared_error", "friedman_mse", "absolute_error", "poisson"] = "squared_error"
    max_depth: int | None = Field(default=12, ge=1, le=128, description="None grows until leaves are pure")
    min_samples_split: int = Field(default=2, ge=2)
    min_samples_leaf: int = Field(default=1, ge=1)
    random_state: int = 0
