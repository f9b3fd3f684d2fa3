"""Hyperparameter validation shared by the model backends: one pydantic model per (algorithm,
task), in strict mode, whose errors become a single InvalidSpec naming each field to fix."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ValidationError

from domain.types.errors import InvalidSpec
from domain.types.training import Task

ParamModels = Mapping[tuple[str, Task], type[BaseModel]]


def validate_hyperparameters(
    models: ParamModels, algorithm: str, task: Task, hyperparameters: Mapping[str, Any]
) -> dict[str, Any]:
    """Hyperparameters with defaults filled in, or InvalidSpec naming every problem."""
    model = models.get((algorithm, task))
    if model is None:
        known = sorted({f"{a} ({t.value})" for a, t in models})
        raise InvalidSpec(f"unknown algorithm {algorithm!r} for task {task.value!r}; known: {', '.join(known)}",
                          {"field": "algorithm", "known": known})
    try:
        # strict: a value of the wrong JSON type is refused, not converted (`true` or "3" or 3.0 for an
        # integer quietly trained a depth-1 stump or a depth-3 tree), as the rest of the spec is; an
        # integer still passes where a number is expected. The published schemas say the same.
        return model.model_validate(dict(hyperparameters), strict=True).model_dump()
    except ValidationError as exc:
        errors = [{"field": ".".join(map(str, e["loc"])), "message": e["msg"]} for e in exc.errors()]
        summary = "; ".join(f"{e['field'] or 'hyperparameters'}: {e['message']}" for e in errors)
        raise InvalidSpec(f"invalid hyperparameters: {summary}", {"errors": errors}) from exc
