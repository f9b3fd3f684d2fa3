"""Per-field hostile values for each JSON body the API takes (see hostile_inputs.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from tests.support.hostile_inputs import ACTION, BODY_OPS, HUGE, INF, LONG, NAMES, NAN, NUMBERS, RULE, Case, short


def put_in(body: dict[str, Any], dotted: str, value: Any) -> dict[str, Any]:
    """A copy of `body` with `dotted` (a.b.c) set to `value`."""
    head, _, rest = dotted.partition(".")
    return {**body, head: value if not rest else put_in(dict(body.get(head) or {}), rest, value)}


def field_cases() -> Iterator[Case]:
    """Each field of each body, given what it must not take (and, with `ok`, extremes that are valid)."""
    ops = {path: (method, base) for method, path, base, _ in BODY_OPS}
    train, alias, retention, retrain, schedule, ingest, scheduled, pipeline, events = ops

    def each(path: str, dotted: str, values: list[Any], hint: str = "", ok: tuple[int, ...] = ()) -> Iterator[Case]:
        method, base = ops[path]
        for value in values:
            yield Case(method, path, put_in(base, dotted, value), hint or dotted.rsplit(".", 1)[-1],
                       f"{dotted}={short(value)}", ok)

    yield from each(train, "model_name", NAMES)
    yield from each(train, "algorithm", [7, "", "nope", LONG])
    yield from each(train, "task", ["clustering", None, 1])
    yield from each(train, "source", ["x", None], "source")
    yield from each(train, "source.table", ["../x", 7], "table")
    yield from each(train, "source.table", ["no_such_table"], "no_such_table")
    yield from each(train, "source.features", [[], ["f0", "f0"], [HUGE], "f0", ["label"]], "feature")
    yield from each(train, "source.features", [["../x"], ["nope"]], "column")
    yield from each(train, "source.label", [7, "../x"], "label")
    yield from each(train, "source.label", ["nope"], "nope")
    yield from each(train, "hyperparameters", [[], "x", 7])
    yield from each(train, "hyperparameters.max_depth", [*NUMBERS[:-3], [], 1.5, 0])  # null: unlimited, valid
    yield from each(train, "hyperparameters.random_state", [-1, HUGE, NAN])
    yield from each(train, "hyperparameters.nope", [1])
    yield from each(train, "validation.fraction", [*NUMBERS, 0, 1])
    yield from each(train, "validation.seed", [*NUMBERS, 1.5])
    yield from each(train, "extra", [1])
    yield from each(alias, "version", [*NUMBERS, 0, 1.5])
    yield from each(alias, "expected_version", [0, -1, NAN, HUGE, "x"])
    yield from each(alias, "reason", [LONG, 7])
    yield from each(alias, "by", [LONG, None])
    yield from each(alias, "extra", [1])
    yield from each(retention, "keep_last", [*NUMBERS[:3], *NUMBERS[4:5], *NUMBERS[6:], 0, 1.5, 1e308])
    yield from each(retention, "keep_last", [HUGE], ok=(200,))  # keep every version: valid
    for dotted in ("keep_days", "alias_days"):
        yield from each(retention, dotted, [*NUMBERS, -0.5, 1e6])  # 1e6 days ago is before year 1
    yield from each(retention, "extra", [1])
    yield from each(retrain, "tolerance", [*NUMBERS[:3], *NUMBERS[4:]])
    yield from each(retrain, "tolerance", [1e308], ok=(202,))  # promote whatever the metrics: valid
    yield from each(retrain, "min_new_rows", [*NUMBERS[:5], -HUGE, *NUMBERS[7:], 1.5])
    yield from each(retrain, "min_new_rows", [HUGE], ok=(202,))  # never enough new rows: valid, a skip
    yield from each(retrain, "alias", NAMES)
    yield from each(retrain, "metric", [LONG, 7])
    yield from each(retrain, "extra", [1])
    crons = ["", "* * *", "99 99 99 99 99", "a\x00b", LONG, 7, None]
    zones = ["", "../../etc/passwd", "/etc/passwd", "Mars/Olympus", "a\x00b", LONG, 7]
    for path in (schedule, scheduled):
        yield from each(path, "cron", crons)
        yield from each(path, "timezone", zones, "time zone|timezone")
        yield from each(path, "enabled", [7, None, "maybe"])
        yield from each(path, "extra", [1])
    yield from each(schedule, "retrain", [[], "x"])
    yield from each(schedule, "retrain.tolerance", [NAN, INF, -1], "tolerance")
    yield from each(schedule, "retrain.tolerance", [1e308], ok=(200,))
    yield from each(schedule, "retrain.min_new_rows", [-1, NAN], "min_new_rows")
    yield from each(scheduled, "ingestion", [[], "x", None])
    yield from each(scheduled, "ingestion.partitions", [0, HUGE, NAN], "partitions")
    yield from each(scheduled, "ingestion.max_reject_ratio", [NAN, INF, 2], "max_reject_ratio")
    yield from each(ingest, "sources", [[], "x", [7], [None], None], "sources")
    yield from each(ingest, "sources", [["../../../etc/passwd"], ["a\x00b"], [LONG], ["/proc/self/environ"]], "source")
    yield from each(ingest, "table", ["../x", "", 7, LONG])
    yield from each(ingest, "format", ["xml", 7])
    yield from each(ingest, "mode", ["merge", None])
    yield from each(ingest, "keys", ["k", [7]], "keys")
    yield from each(ingest, "keys", [["../x"]], "column")
    yield from each(ingest, "partitions", [*NUMBERS, 0, 257, 1.5])
    yield from each(ingest, "max_reject_ratio", [*NUMBERS, 2])
    yield from each(ingest, "cleaning", [[], "x"])
    yield from each(ingest, "cleaning.schema", [{"a": "blob"}], "type")
    yield from each(ingest, "cleaning.schema", [{"../x": "string"}], "column")
    yield from each(ingest, "cleaning.drop_nulls", [["../x"]], "column")
    yield from each(ingest, "cleaning.drop_nulls", ["a", 7], "drop_nulls")
    yield from each(ingest, "dispatch", ["lambda"])
    yield from each(ingest, "extra", [1])
    yield from each(pipeline, "features", [[], "f0", [7], [None], [["f0"]], [{"agg": "last"}]], "feature")
    yield from each(pipeline, "features", [[{"field": "../x"}]], "feature name")  # the name defaults to the field
    yield from each(pipeline, "features", [[{"field": "f0", "agg": "nope"}]], "aggregation")
    yield from each(pipeline, "features", [[{"field": "f0", "agg": "percentile", "q": v}] for v in NUMBERS], "q")
    yield from each(pipeline, "window", [[], "x", 7, {"nope": 1}], "window")
    yield from each(pipeline, "window", [{"events": v} for v in [*NUMBERS, 0, 1.5]], "window")
    yield from each(pipeline, "window", [{"seconds": v} for v in [*NUMBERS[:3], *NUMBERS[4:-3], [], {}, 0]], "window")
    yield from each(pipeline, "window", [{"seconds": v} for v in (1e308, None)], ok=(200,))  # no time limit
    for dotted in ("batch_size", "max_wait_ms", "max_deliveries"):
        yield from each(pipeline, dotted, [*NUMBERS, 0, 1.5, True])
    yield from each(pipeline, "stream", [*NAMES[:-1], "x" * 4000])
    yield from each(pipeline, "entity_key", [*NAMES[:-1], "x" * 4000], "entity key")
    yield from each(pipeline, "model", [*NAMES[:-1], "x" * 4000])
    yield from each(pipeline, "alias", [*NAMES[:-1], "x" * 4000])
    yield from each(pipeline, "signals_table", [7, "../x", "a\x00b", "x" * 4000])
    yield from each(pipeline, "rules", ["x", 7, [7], [None], [{"when": []}]], "rule")
    yield from each(pipeline, "rules", [[{**RULE, "name": v}] for v in NAMES if v], "rule name")
    yield from each(pipeline, "rules", [[{**RULE, "actions": ["nope"]}]], "action")
    yield from each(pipeline, "rules", [[{**RULE, "cooldown_s": v}] for v in [*NUMBERS[:3], *NUMBERS[4:-3]]],
                    "cooldown_s")
    yield from each(pipeline, "rules", [[{**RULE, "cooldown_s": 1e308}]], ok=(200,))  # fires once: valid
    yield from each(pipeline, "rules", [[{**RULE, "when": v}] for v in ("x", 7, [7], [{"on": "score"}])], "when")
    yield from each(pipeline, "rules", [[{**RULE, "when": [{"on": "score", "op": v, "value": 1}]}]
                                        for v in ("=~", "", 7, None, [])], "operator")
    yield from each(pipeline, "rules", [[{**RULE, "when": [{"on": v, "op": ">", "value": 1}]}]
                                        for v in ("nope", 7, None)], "condition")
    yield from each(pipeline, "rules", [[{**RULE, "when": [{"on": "score", "op": op, "value": v}]}]
                                        for op, v in ((">", NAN), (">", INF), ("in", [NAN]), ("in", 7))], "value|list")
    yield from each(pipeline, "actions", ["x", 7, [7], [None], [{"type": "publish"}]], "action")
    yield from each(pipeline, "actions", [[{**ACTION, "name": v}] for v in NAMES if v], "action name")
    yield from each(pipeline, "actions", [[{**ACTION, "type": v}] for v in ("exec", 7, None, [])], "type")
    yield from each(pipeline, "actions", [[{**ACTION, "stream": v}] for v in (7, None, "../x", "")], "stream")
    yield from each(pipeline, "actions", [[{**ACTION, "url": "http://x"}]], "url")
    webhook = {"name": "a", "type": "webhook", "url": "http://127.0.0.1:9/"}
    yield from each(pipeline, "actions", [[{**webhook, "url": v}] for v in ("file:///etc/passwd", 7, "")], "url")
    yield from each(pipeline, "actions", [[{**webhook, "timeout_s": v}] for v in [*NUMBERS[:3], *NUMBERS[4:-2], 0]],
                    "timeout_s")
    yield from each(pipeline, "actions", [[{**webhook, "secret": v}] for v in (7, [])], "secret")
    yield from each(pipeline, "actions", [[{"name": "a", "type": "record", "table": v}] for v in ("../x", 7)],
                    "table")
    yield from each(pipeline, "extra", [1])
    yield from each(events, "events", ["x", 7, None, [], [{}] * 10_001])
    yield from each(events, "events", [[7], [None], [[1]]], "event")


