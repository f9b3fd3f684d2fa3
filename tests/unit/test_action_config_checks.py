"""Save-time checks of actions: a webhook must time out inside the actions queue's task timeout, and an
existing `record` table must have a column of a fitting type for every value the action writes."""

from __future__ import annotations

import pytest

from domain.services.actions import check_webhook_timeouts, record_table_problem
from domain.types.errors import InvalidSpec
from domain.types.rules import ActionSpec
from domain.types.tables import ColumnInfo, TableInfo

pytestmark = pytest.mark.unit
TEXT = ("key", "event_id", "entity", "label")


def table(*extra: ColumnInfo, key_type: str = "VARCHAR", upper: bool = False) -> TableInfo:
    columns = [ColumnInfo(name.upper() if upper else name, key_type if name == "key" else "VARCHAR", False)
               for name in TEXT]
    columns += [ColumnInfo("model_version", "BIGINT", True), ColumnInfo("score", "DOUBLE", True),
                ColumnInfo("f_f0", "DOUBLE", True)]
    return TableInfo("records", (*columns, *extra), 0)


def hook(timeout_s: float | None = None) -> ActionSpec:
    params = {"url": "http://127.0.0.1:9/hook", **({"timeout_s": timeout_s} if timeout_s is not None else {})}
    return ActionSpec("wh", "webhook", params)


def test_a_table_with_the_action_columns_in_any_case_and_extra_nullable_ones_fits() -> None:
    assert record_table_problem(table(ColumnInfo("note", "VARCHAR", False)), ["f0"]) is None
    assert record_table_problem(table(upper=True), ["f0"]) is None


def test_missing_columns_text_in_a_number_column_and_unwritten_not_null_columns_are_named() -> None:
    message, columns = record_table_problem(table(ColumnInfo("ts", "TIMESTAMP", False, nullable=False),
                                                  key_type="INTEGER"), ["f0", "f1"]) or ("", [])
    assert columns == ["f_f1", "key", "ts"], columns
    assert "no column(s) f_f1" in message and "key (INTEGER)" in message and "ts are NOT NULL" in message


def test_a_webhook_must_time_out_a_margin_inside_the_queue_timeout() -> None:
    check_webhook_timeouts([hook(29), ActionSpec("p", "publish", {"stream": "s"})], 30)
    with pytest.raises(InvalidSpec) as refused:
        check_webhook_timeouts([ActionSpec("p", "publish", {"stream": "s"}), hook(29.5)], 30)
    assert refused.value.details["field"] == "actions[1].timeout_s" and "at most 29" in refused.value.message
    with pytest.raises(InvalidSpec):  # no timeout_s: the executor's default of 5 s must fit too
        check_webhook_timeouts([hook()], 5)
