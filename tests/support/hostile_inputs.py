"""The hostile inputs tests/e2e/test_api_bad_input.py sends: fixed lists, so every run sends the same.

Each `Case` is one request and what its answer must be: a 4xx whose message names `hint`, or one of
the `ok` statuses where the input is extreme but valid. The per-field cases are in hostile_fields.py.
"""

from __future__ import annotations

import json
from typing import Any, NamedTuple

from tests.support.ws_client import DEMO_SPEC

MODEL, STREAM = "demo-churn", "demo_events"  # what the daemon sets up on first start
NAN, INF, HUGE = float("nan"), float("inf"), int("9" * 400)
LONG = "x" * 500_000  # long, yet under the 1 MiB body limit: it reaches validation
DEEP = b"[" * 5000 + b"]" * 5000
NUMBERS = [NAN, INF, -INF, 1e308, -1e308, HUGE, -HUGE, -1, "x", None, [], {}]  # for a count, rate or version
NAMES = [7, "", "../x", "a\x00b", "\u00e9", "\U0001f600", "line\nbreak", LONG, None]
PATH_VALUES = ["../etc/passwd", "..%2F..", "a\x00b", "line\nbreak", "\u00e9", "\U0001f600", " ", "-1", "0",
               "9" * 400, "x" * 4000]
PATH_EXTRA_FOR_VERSIONS = ["\u00b2", "\u0661", "1.5", "1e3", "+1", "9" * 5000]  # superscript two, Arabic-Indic one

INGEST = {"sources": ["/tmp/mlplane-bad-input-none/*.csv"], "table": "fuzz_table"}
ACTION = {"name": "a", "type": "publish", "stream": "fuzz_alerts"}
PIPELINE = {"stream": STREAM, "model": MODEL, "features": [f"f{i}" for i in range(8)], "actions": [ACTION]}
RULE = {"name": "r", "when": [{"on": "score", "op": ">", "value": 0.5}], "actions": ["a"]}
SCHEDULED = {"cron": "0 3 1 1 *", "enabled": False, "ingestion": INGEST}
# (method, path, a valid body, what the message names when the body is not an object)
BODY_OPS: list[tuple[str, str, dict[str, Any], str]] = [
    ("POST", "/v1/training-jobs", {**DEMO_SPEC, "model_name": "fuzz"}, "object"),
    ("PUT", f"/v1/models/{MODEL}/aliases/fuzz", {"version": 1}, "object"),
    ("PUT", f"/v1/models/{MODEL}/retention", {}, "object"),
    ("POST", f"/v1/models/{MODEL}/retrain", {}, "object"),
    ("PUT", f"/v1/models/{MODEL}/schedule", {}, "object"),
    ("POST", "/v1/ingestions", INGEST, "object"),
    ("PUT", "/v1/ingestion-schedules/fuzz", SCHEDULED, "object"),
    ("PUT", "/v1/pipelines/fuzz", PIPELINE, "object"),
    ("POST", f"/v1/streams/{STREAM}/events", {"events": [{"entity_id": "e1"}]}, "events"),
]


class Case(NamedTuple):
    method: str
    path: str  # percent-encoded
    body: Any  # JSON-encoded with NaN/Infinity as literals; bytes are sent as they are
    hint: str  # the error message names this (or one of these, split by '|')
    label: str
    ok: tuple[int, ...] = ()  # 2xx answers that are right because the input is in fact valid


def short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:20]}...({len(text)} chars)"


def not_object_bodies(base: dict[str, Any], hint: str) -> list[tuple[bytes, str]]:
    """(raw body, what the message names) for bodies that are not the JSON object an operation takes."""
    return [(b"not json", "json"), (b"{", "json"), (b"\xff\xfe\x00", "json"), (DEEP, "json"), (b"[1, 2]", hint),
            (b'"text"', hint), (b"42", hint), (b"null", hint), (b"1" * 5000, "json"),
            (json.dumps({**base, "x": "x" * (1 << 20)}).encode(), "body size")]  # past the 1 MiB limit: 413


# (method, path template, what the message names, a valid body or None)
PATH_OPS: list[tuple[str, str, str, Any]] = [
    ("GET", "/v1/tables/{}", "table", None), ("GET", "/v1/models/{}/versions", "model name", None),
    ("GET", "/v1/models/{}/aliases", "model name", None),
    ("GET", f"/v1/models/{MODEL}/aliases/{{}}/history", "alias", None),
    ("PUT", f"/v1/models/{MODEL}/aliases/{{}}", "alias", {"version": 1}),
    ("PUT", "/v1/models/{}/retention", "model name", {}),
    ("GET", "/v1/models/{}/retention/plan", "model name", None),
    ("POST", "/v1/models/{}/retention/apply", "model name", None),
    ("POST", "/v1/models/{}/retrain", "model name", {}), ("PUT", "/v1/models/{}/schedule", "model name", {}),
    ("GET", "/v1/training-jobs/{}", "job", None), ("DELETE", "/v1/training-jobs/{}", "job", None),
    ("GET", "/v1/training-jobs/{}/events", "job", None), ("GET", "/v1/ingestions/{}", "not found", None),
    ("PUT", "/v1/ingestion-schedules/{}", "schedule name", SCHEDULED),
    ("GET", "/v1/ingestion-schedules/{}", "schedule name", None),
    ("DELETE", "/v1/ingestion-schedules/{}", "schedule name", None),
    ("PUT", "/v1/pipelines/{}", "pipeline name", PIPELINE), ("GET", "/v1/pipelines/{}", "pipeline", None),
    ("POST", "/v1/streams/{}/events", "stream", {"events": [{"entity_id": "e1"}]}),
    ("GET", "/v1/streams/{}/ws", "stream", None), ("POST", "/v1/dlq/{}/replay", "dead letter", None),
    ("DELETE", "/v1/dlq/{}", "dead letter", None),
] + [(m, f"/v1/models/{MODEL}/versions/{{}}{tail}", "version", None)
     for m, tail in [("GET", ""), ("DELETE", ""), ("GET", "/artifact")]]


QUERY_CASES = [
    ("GET", "/v1/dlq?limit={}", ["abc", "", "1e3", "9" * 5000, "1.5"], "limit", ()),
    ("GET", "/v1/dlq?limit={}", ["-1", "0", "9" * 400], "limit", (200,)),  # clamped to 1..1000
    ("GET", "/v1/dlq?kind={}", ["x", "", "../x", "\x00"], "kind", ()),
    ("GET", "/v1/dlq?pipeline={}", ["../x", "\x00", "9" * 400], "", (200,)),  # a filter: nothing matches
    ("POST", "/v1/dlq/replay?kind={}", ["x", ""], "kind", ()),
    ("GET", "/v1/training-jobs/nope/events?after={}", ["x", "", "-1", "1-x", "9" * 5000, "9" * 400, "1--1"],
     "event id", ()),
    ("GET", "/v1/events?topics={}", ["", ",", "x", "bogus:1", ",".join(["job:a"] * 51)], "topics", ()),
    ("GET", f"/v1/models/{MODEL}/versions/1/artifact?file={{}}", ["../manifest.json", "", "\x00", "x" * 4000],
     "file", ()),
    ("GET", f"/v1/models/{MODEL}/aliases/production/history?at={{}}",
     ["x", "", "2026-13-45", "2026-01-01T00:00:00", "9" * 400, "\x00"], "at", ()),
]


WS_MESSAGES = [("not json", "malformed JSON"), (DEEP.decode(), "nested too deeply"), ("1" * 5000, "malformed JSON"),
               ("[1]", "events"), ('"x"', "events"), ("null", "events"), ('{"events": []}', "events"),
               ('{"events": [7]}', "JSON object")]  # ({"events": "x"} is one event, as documented)


# Valid JSON objects the intake takes as they are (it cannot know the pipelines' fields); the pipeline
# must then refuse each one into the DLQ with its cause, not crash or stall.
HOSTILE_EVENTS = [{"entity_id": "e1", "f0": HUGE}, {"entity_id": "e1", "f0": NAN}, {"entity_id": "e1", "f0": -INF},
                  {"entity_id": "e1", "f0": LONG[:10_000]}, {"entity_id": "e1", "f0": [[[[0.5]]]]},
                  {"entity_id": [1], "f0": 0.5}, {"entity_id": "e1", "ts": HUGE, "f0": 0.5},
                  {"entity_id": "e1", "ts": -1e308, "f0": 0.5}, {"entity_id": "\x00" * 10, "f0": None}]


