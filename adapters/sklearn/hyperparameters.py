"""Hyperparameters per algorithm as pydantic models: they validate specs AND publish JSON Schema."""

from __future__ import annotations

from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

Fraction = Annotated[float, Field(gt=0.0, le=1.0)]
Seed = Annotated[int, Field(ge=0, le=2**32 - 1, description="what scikit-learn takes; else the fit fails")]


class _Params(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)  # an infinite penalty fits nothing


class DecisionTreeClassifierParams(_Params):
    criterion: Literal["gini", "entropy", "log_loss"] = "gini"
    max_depth: int | None = Field(default=12, ge=1, le=128, description="None grows until leaves are pure")
    min_samples_split: int = Field(default=2, ge=2)
    min_samples_leaf: int = Field(default=1, ge=1)
    class_weight: Literal["balanced"] | None = None
    random_state: Seed = 0


class DecisionTreeRegressorParams(_Params):
    criterion: Literal["squared_error", "friedman_mse", "absolute_error", "poisson"] = "squared_error"
    max_depth: int | None = Field(default=12, ge=1, le=128, description="None grows until leaves are pure")
    min_samples_split: int = Field(default=2, ge=2)
    min_samples_leaf: int = Field(default=1, ge=1)
    random_state: Seed = 0


class _ForestParams(_Params):
    # Bounded by default: unbounded forests on 200k rows grew to depth 48 and 81 MiB per 100 trees.
    n_estimators: int = Field(default=100, ge=1, le=2000)
    max_depth: int | None = Field(default=16, ge=1, le=128, description="None grows until leaves are pure (large)")
    min_samples_split: int = Field(default=2, ge=2)
    min_samples_leaf: int = Field(default=2, ge=1)
    bootstrap: bool = True
    max_samples: Fraction | None = Field(default=None, description="fraction of rows drawn per tree")
    # Fits already run inside a pool process: more threads there would oversubscribe the cores.
    n_jobs: int = Field(default=1, ge=1, le=64)
    random_state: Seed = 0

    @model_validator(mode="after")
    def _samples_need_bootstrap(self) -> Self:
        if self.max_samples is not None and not self.bootstrap:
            raise ValueError("max_samples needs bootstrap=true")
        return self


class RandomForestClassifierParams(_ForestParams):
    criterion: Literal["gini", "entropy", "log_loss"] = "gini"
    max_features: Literal["sqrt", "log2"] | Fraction | None = Field(default="sqrt", description="float: a fraction")
    class_weight: Literal["balanced", "balanced_subsample"] | None = None


class RandomForestRegressorParams(_ForestParams):
    criterion: Literal["squared_error", "friedman_mse", "absolute_error", "poisson"] = "squared_error"
    max_features: Literal["sqrt", "log2"] | Fraction | None = Field(default=1.0, description="float: a fraction")


class _BoostingParams(_Params):
    max_iter: int = Field(default=100, ge=1, le=10_000, description="boosting iterations (trees per class)")
    learning_rate: float = Field(default=0.1, gt=0.0, le=1.0)
    max_leaf_nodes: int | None = Field(default=31, ge=2, le=65_536)
    max_depth: int | None = Field(default=None, ge=1, le=128)
    min_samples_leaf: int = Field(default=20, ge=1)
    l2_regularization: float = Field(default=0.0, ge=0.0)
    max_bins: int = Field(default=255, ge=2, le=255)
    early_stopping: Literal["auto"] | bool = "auto"
    validation_fraction: float = Field(default=0.1, gt=0.0, lt=1.0)
    n_iter_no_change: int = Field(default=10, ge=1)
    random_state: Seed = 0


class HistGradientBoostingClassifierParams(_BoostingParams):
    class_weight: Literal["balanced"] | None = None


class HistGradientBoostingRegressorParams(_BoostingParams):
    loss: Literal["squared_error", "absolute_error", "poisson"] = "squared_error"
