"""The query of `GET /v1/events`: which topics, and where each one resumes.

Event ids are per topic (each topic is its own stream), so an id from one topic's stream means
nothing for another's. `?after=ID` therefore resumes a single topic; with several, the client
gives each topic's last id as `?after=TOPIC@ID,TOPIC@ID` (an event carries its `topic` and `id`),
and a topic not named there starts from its backlog. A plain id with several topics is refused
(422) rather than guessed.
An ingestion's events are its job's: `ingestion:ID` is another name for the topic `job:ID`, and its
events say `"topic": "job:ID"`.
"""

from __future__ import annotations

from domain.types.errors import InvalidSpec
from domain.types.events import event_id_key, job_topic

TOPIC_KINDS = ("job:", "model:", "pipeline:", "ingestion:")
MAX_TOPICS = 50
SLOW_CLIENT_REASON = b"client too slow; reconnect with ?after=<topic>@<last event id>,... (one topic: ?after=<last id>)"
_TOPICS_HINT = "give ?topics= as a comma-separated list (at most 50) of job:ID, model:NAME, pipeline:NAME, ingestion:ID"
_AFTER_HINT = "give ?after= as TOPIC@ID,... with each topic's last event id (a plain ID only with one topic)"


def topic_name(topic: str) -> str:
    """The topic events are published on: an ingestion's are on its job's topic."""
    kind, _, name = topic.partition(":")
    return job_topic(name) if kind == "ingestion" else topic


def parse_topics(raw: str) -> list[str]:
    topics = [t for t in raw.split(",") if t]
    if not topics or len(topics) > MAX_TOPICS or not all(t.startswith(TOPIC_KINDS) and t.partition(":")[2]
                                                          for t in topics):
        raise InvalidSpec(_TOPICS_HINT, {"field": "topics"})
    return list(dict.fromkeys(topic_name(t) for t in topics))


def parse_after(raw: str | None, topics: list[str]) -> dict[str, str]:
    """Each topic's resume point: the id its client received last (topics not named: from the start)."""
    if raw is None:
        return {}
    if "@" not in raw:
        if len(topics) != 1:
            raise InvalidSpec(f"{_AFTER_HINT}: {len(topics)} topics were asked for", {"field": "after"})
        event_id_key(raw)  # 422 naming the expected shape
        return {topics[0]: raw}
    after: dict[str, str] = {}
    for part in raw.split(","):
        topic, at, event_id = (p.strip() for p in part.rpartition("@"))
        topic = topic_name(topic)
        if not at or topic not in topics or topic in after:
            raise InvalidSpec(f"{_AFTER_HINT}; {part[:80]!r} names no topic of ?topics= or one already named",
                              {"field": "after"})
        event_id_key(event_id)
        after[topic] = event_id
    return after
