"""keras_mlp hyperparameters as pydantic models: they validate specs AND publish JSON Schema."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Params(BaseModel):
    model_config = ConfigDict(extra="forbid")


class EarlyStoppingParams(_Params):
    patience: int = Field(default=5, ge=1, le=1000, description="epochs without improvement before stopping")
    monitor: Literal["val_loss"] = "val_loss"
    restore_best_weights: bool = True


class KerasMlpParams(_Params):
    """One model for both tasks: the task picks the output layer and the loss, not the knobs."""

    hidden_layers: list[Annotated[int, Field(ge=1, le=4096)]] = Field(
        default_factory=lambda: [64, 64], min_length=1, max_length=16, description="units per hidden layer"
    )
    activation: Literal["relu", "tanh", "gelu", "elu", "selu"] = "relu"
    dropout: float = Field(default=0.0, ge=0.0, le=0.9, description="dropout after each hidden layer")
    optimizer: Literal["adam", "sgd", "rmsprop", "adamw"] = "adam"
    learning_rate: float = Field(default=1e-3, gt=0.0, le=10.0)
    epochs: int = Field(default=20, ge=1, le=1000)
    batch_size: int = Field(default=256, ge=1, le=65536)
    validation_fraction: float = Field(
        default=0.1, gt=0.0, le=0.5, description="share of the training rows held out for val_* metrics"
    )
    early_stopping: EarlyStoppingParams | None = None
    seed: int = Field(default=0, ge=0, le=2**31 - 1)
    export: list[Literal["h5"]] = Field(default_factory=list, description="extra formats next to .keras")
