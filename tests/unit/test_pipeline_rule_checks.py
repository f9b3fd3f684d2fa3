"""Pipeline configs whose rules or actions could never work as written are refused, naming the field."""

from __future__ import annotations

from typing import Any

import pytest

from domain.types.errors import InvalidSpec
from domain.types.pipelines import PipelineConfig

pytestmark = pytest.mark.unit
PUBLISH = {"name": "pa", "type": "publish", "stream": "alerts"}


def config(**overrides: Any) -> dict[str, Any]:
    rule = {"name": "r", "when": [{"on": "score", "op": ">", "value": 0.5}], "actions": ["pa"]}
    return {"name": "p1", "model": "m", "features": ["f0", {"field": "f1", "agg": "mean"}],
            "rules": [rule], "actions": [PUBLISH], **overrides}


def refusal(**overrides: Any) -> InvalidSpec:
    with pytest.raises(InvalidSpec) as caught:
        PipelineConfig.from_dict(config(**overrides))
    return caught.value


def test_two_actions_with_one_name_are_refused_naming_the_second() -> None:
    error = refusal(actions=[PUBLISH, {**PUBLISH, "stream": "other"}])
    assert error.details["field"] == "actions[1].name" and "'pa'" in error.message and "actions[0]" in error.message


def test_two_rules_with_one_name_are_refused_naming_the_second() -> None:
    rule = {"name": "r", "when": [], "actions": ["pa"]}
    error = refusal(rules=[rule, {**rule, "cooldown_s": 60}])
    assert error.details["field"] == "rules[1].name" and "'r'" in error.message


def condition_refusal(condition: dict[str, Any]) -> InvalidSpec:
    first = {"name": "ok", "when": [], "actions": ["pa"]}
    return refusal(rules=[first, {"name": "r2", "when": [{"on": "score", "op": ">", "value": 0}, condition],
                                  "actions": ["pa"]}])


def test_a_condition_on_a_feature_the_pipeline_lacks_is_refused_naming_the_rule_and_the_features() -> None:
    error = condition_refusal({"on": "feature:nope", "op": ">", "value": 1})
    assert error.details["field"] == "rules[1].when[1].on"
    assert "'r2'" in error.message and "f0, f1_mean" in error.message


def test_a_condition_on_a_pipeline_feature_is_accepted() -> None:
    rule = {"name": "r", "when": [{"on": "feature:f1_mean", "op": "<", "value": 2}], "actions": ["pa"]}
    assert PipelineConfig.from_dict(config(rules=[rule])).rules[0].when[0].on == "feature:f1_mean"


@pytest.mark.parametrize(("on", "op", "value"), [
    ("score", ">", "high"), ("score_change", ">=", None), ("feature:f0", "<", "1"), ("score", "in", [0.5, "x"]),
    ("label_changed", "==", "yes"), ("score", "<", True)])
def test_a_number_compared_with_something_else_is_refused_naming_the_rule(on: str, op: str, value: Any) -> None:
    error = condition_refusal({"on": on, "op": op, "value": value})
    assert error.details["field"] == "rules[1].when[1].value"
    assert "'r2'" in error.message and "number" in error.message


@pytest.mark.parametrize(("on", "value"), [("label", ["churn"]), ("score", [1]), ("label", [])])
def test_a_comparison_with_a_list_or_an_empty_in_list_is_refused(on: str, value: list[Any]) -> None:
    error = condition_refusal({"on": on, "op": "in" if not value else "==", "value": value})
    assert error.details["field"] == "rules[1].when[1].value" and "'in' takes a list" in error.message


@pytest.mark.parametrize(("on", "op", "value"), [
    ("label", "==", "churn"), ("label", "in", ["a", 1]), ("label_changed", "==", True), ("score", "in", [0, 1.5])])
def test_labels_take_any_value_and_numbers_take_numbers(on: str, op: str, value: Any) -> None:
    rule = {"name": "r", "when": [{"on": on, "op": op, "value": value}], "actions": ["pa"]}
    assert PipelineConfig.from_dict(config(rules=[rule])).rules[0].when[0].value == value


@pytest.mark.parametrize(("key", "value"), [("max_wait_ms", 0), ("max_wait_ms", 10**9), ("batch_size", 0)])
def test_a_batching_bound_out_of_range_names_itself(key: str, value: int) -> None:
    error = refusal(**{key: value})
    assert error.details["field"] == key and key in error.message
