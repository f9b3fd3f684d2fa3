"""`signals_table` in a pipeline config: optional, an SQL identifier, and it round-trips."""

from __future__ import annotations

import pytest

from domain.types.errors import InvalidSpec
from domain.types.pipelines import PipelineConfig

pytestmark = pytest.mark.unit
RAW = {"name": "p1", "stream": "events", "model": "m", "features": ["x"]}


def test_signals_table_is_optional_and_round_trips() -> None:
    assert PipelineConfig.from_dict(RAW).signals_table is None
    config = PipelineConfig.from_dict({**RAW, "signals_table": "p1_signals"})
    assert config.signals_table == "p1_signals"
    assert PipelineConfig.from_dict(config.to_dict()) == config


@pytest.mark.parametrize("bad", ["drop table x;", "1abc", "a-b", 42])
def test_a_signals_table_that_is_not_an_sql_identifier_is_refused_naming_the_field(bad: object) -> None:
    with pytest.raises(InvalidSpec) as caught:
        PipelineConfig.from_dict({**RAW, "signals_table": bad})
    assert caught.value.details["field"] == "signals_table"
    assert "signals_table" in caught.value.message
