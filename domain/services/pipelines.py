"""PipelineService: save (validated against the served model), list with live stats, and ingest events."""

from __future__ import annotations

import builtins
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from domain.services.actions import check_webhook_timeouts, record_table_problem
from domain.services.aliases import AliasService
from domain.services.registry import ModelRegistry
from domain.services.signal_recorder import not_a_signals_table
from domain.types.errors import InvalidSpec, NotFound, TableNotFound
from domain.types.identifiers import stream_name
from domain.types.pipelines import PipelineConfig
from ports.dead_letters import DeadLetters
from ports.pipeline_store import PipelineStore
from ports.signal_sink import SignalSink
from ports.stream_producer import StreamProducer
from ports.warehouse import Warehouse

MAX_EVENTS_PER_REQUEST = 10_000


@dataclass(frozen=True)
class Ingested:
    """The appended events' ids, and warnings about where they went."""

    ids: list[str]
    warnings: list[str]


def group_name(pipeline: str) -> str:
    """One consumer group per pipeline: two pipelines over one stream each see every event."""
    return f"pipeline:{pipeline}"


def _secret_key(name: str) -> str:
    # How the environment provider reads a secret name (MLPLANE_SECRET_<NAME>): `api-token`, `API_TOKEN`
    # and `Api-Token` all read MLPLANE_SECRET_API_TOKEN, so each of them is the API token.
    return name.upper().replace("-", "_")


def _refuse_api_token_secret(config: PipelineConfig, api_token_secret: str) -> None:
    """A webhook signs every body it sends with its secret: keyed by the API token, it would hand whoever
    configures pipelines an HMAC oracle on the admin credential."""
    for index, action in enumerate(config.actions):
        secret = action.params.get("secret")
        if action.type != "webhook" or not isinstance(secret, str):
            continue
        if _secret_key(secret) == _secret_key(api_token_secret):
            raise InvalidSpec(f"actions[{index}] ({action.name!r}): webhook secret {secret!r} is the secret that holds "
                              "the API token, which must not key webhook signatures; give the webhook a secret of "
                              "its own (e.g. 'webhook-hook', set as MLPLANE_SECRET_WEBHOOK_HOOK or a file in "
                              "MLPLANE_SECRETS_DIR)", {"field": f"actions[{index}].secret"})


class PipelineService:
    def __init__(self, store: PipelineStore, registry: ModelRegistry, aliases: AliasService, signals: SignalSink,
                 producer: StreamProducer, dead_letters: DeadLetters, warehouse: Warehouse | None = None) -> None:
        """`warehouse`: where signals and `record` tables live, to refuse one that is a data table or cannot
        take the rows (None: not checked)."""
        self._store, self._registry, self._aliases = store, registry, aliases
        self._signals, self._producer, self._dlq = signals, producer, dead_letters
        self._warehouse = warehouse

    async def save(self, config: PipelineConfig, actions_timeout_s: float | None = None,
                   api_token_secret: str | None = None) -> PipelineConfig:
        """Refused (InvalidSpec) unless the alias serves a version whose features match, every webhook times
        out within `actions_timeout_s` (the actions queue's task timeout; None: not checked), no webhook signs
        with `api_token_secret` (the secret holding the API token; None: not checked) and every existing
        `record` table can take the action's rows."""
        if actions_timeout_s is not None:
            check_webhook_timeouts(config.actions, actions_timeout_s)
        if api_token_secret is not None:
            _refuse_api_token_secret(config, api_token_secret)
        try:
            version = await self._aliases.current(config.model, config.alias)
        except NotFound:
            version = None
        if version is None:
            raise InvalidSpec(f"model {config.model!r} has no version under alias {config.alias!r} to check "
                              "the pipeline's features against", {"field": "model"})
        manifest = await self._registry.get_version(config.model, version)
        config.check_model_features(list(manifest.spec.get("source", {}).get("features", [])), version)
        await self._check_table_is_its_own(config)
        await self._check_table_is_a_signals_table(config)
        await self._check_record_tables(config)
        previous = await self._previous(config.name)
        await self._store.put(config)
        group = group_name(config.name)
        if previous is not None and previous.stream != config.stream:  # its old group would pin that stream
            await self._producer.drop_group(previous.stream, group)  # its replays stay: they follow the move
        # Here, not only by its consumers: after a DELETE and an equal PUT within one config scan the
        # runner keeps the running consumer, which never recreates its dropped group itself.
        await self._producer.ensure_group(config.stream, group)
        await self._dlq.accept_replays(config.name)
        return config

    async def refusing(self, model: str, alias: str, version: int) -> builtins.list[str]:
        """Why each pipeline serving `model@alias` will refuse `version` (its features differ): the pipeline
        keeps its current version, so an alias move that strands pipelines is answered with these warnings."""
        following = [c for c in await self._store.list() if (c.model, c.alias) == (model, alias)]
        if not following:
            return []
        features = list((await self._registry.get_version(model, version)).spec.get("source", {}).get("features", []))
        warnings = []
        for config in following:
            try:
                config.check_model_features(features, version)
            except InvalidSpec as exc:
                warnings.append(f"pipeline {config.name!r} will keep its current version: {exc.message}")
        return warnings

    async def delete(self, name: str) -> None:
        """Remove the pipeline: its consumers stop at their next config scan (seconds; the batch in hand is
        finished), and its consumer group goes, so the input stream is trimmed as if it had never read it;
        so do the events replayed to it and not yet read. Its signals stream, stats and dead letters stay
        until they are capped, expire or are purged; its event letters refuse replay until it is saved again."""
        config = await self._store.get(name)  # PipelineNotFound: a 404
        await self._dlq.refuse_replays(name)  # first: a replay from now on would recreate a stream nobody reads
        await self._store.delete(name)
        await self._producer.drop_group(config.stream, group_name(name))
        await self._producer.drop_replays(group_name(name))

    async def _previous(self, name: str) -> PipelineConfig | None:
        try:
            return await self._store.get(name)
        except NotFound:
            return None

    async def _check_table_is_its_own(self, config: PipelineConfig) -> None:
        """A signals table records one pipeline: rows are appended once per event id, and two input
        streams can hand out the same id, so a second pipeline's signals would be silently skipped."""
        if config.signals_table is None:
            return
        for other in await self._store.list():
            if other.name != config.name and other.signals_table == config.signals_table:
                raise InvalidSpec(f"signals_table {config.signals_table!r} already records pipeline {other.name!r}; "
                                  "give this pipeline a table of its own", {"field": "signals_table"})

    async def _check_table_is_a_signals_table(self, config: PipelineConfig) -> None:
        """The recorder would add its columns and rows to any table it is given: an existing table is
        accepted only if it is a signals table (this pipeline's: no other pipeline names it, above).
        The recorder checks again before each write, for a table created after this."""
        if config.signals_table is None or self._warehouse is None:
            return
        try:
            problem = not_a_signals_table(await self._warehouse.describe(config.signals_table))
        except TableNotFound:
            return
        if problem is not None:
            raise InvalidSpec(f"signals_table {config.signals_table!r} refused: {problem}; the pipeline would write "
                              "its signals into it. Name a new table", {"field": "signals_table",
                                                                        "table": config.signals_table})

    async def _check_record_tables(self, config: PipelineConfig) -> None:
        """A `record` action appends to its table as the table is: one that cannot take its rows is refused
        now, rather than every row dead-lettered later. A table created after this is checked when a row
        fails (WarehouseRecordExecutor)."""
        if self._warehouse is None:
            return
        for index, action in enumerate(config.actions):
            if action.type != "record":
                continue
            table = action.params["table"]
            try:
                problem = record_table_problem(await self._warehouse.describe(table), config.feature_names)
            except TableNotFound:
                continue  # its first row creates it
            if problem is not None:
                raise InvalidSpec(f"actions[{index}] ({action.name!r}): record {problem[0]}; name a new table (the "
                                  "action creates it) or one with these columns",
                                  {"field": f"actions[{index}].table", "table": table, "columns": problem[1]})

    async def get(self, name: str) -> dict[str, Any]:
        config = await self._store.get(name)
        return {**config.to_dict(), "stats": await self.stats(config)}

    async def list(self) -> builtins.list[dict[str, Any]]:
        return [{**c.to_dict(), "stats": await self.stats(c)} for c in await self._store.list()]

    async def configs(self) -> Sequence[PipelineConfig]:
        return await self._store.list()

    async def stats(self, config: PipelineConfig) -> dict[str, Any]:
        """The sink's live figures, the input backlog, the DLQ size, and `paused`: why the consumers
        take no new input (None while they do). `paused` is what the consumers marked, not worked out
        from the signals backlog here: under the limit, whether they still wait depends on whether
        they paused before (see signal_backpressure.py), which only they know."""
        live = dict(await self._signals.stats(config.name))
        backlog = await self._producer.backlog(config.stream, group_name(config.name))
        return {**live, **backlog, "dlq": await self._dlq.count(config.name)}

    async def ingest(self, stream: str, events: Sequence[Any]) -> Ingested:
        """Append flat JSON objects to `stream`; the whole request is refused if one is not an object.
        A stream no pipeline reads still takes them (a pipeline saved on it later reads from its start),
        with a warning: it is often a misspelt name, and nothing trims such a stream."""
        stream_name(stream)
        if not 0 < len(events) <= MAX_EVENTS_PER_REQUEST:
            raise InvalidSpec(f"send 1..{MAX_EVENTS_PER_REQUEST} events per request", {"field": "events"})
        bad = [i for i, e in enumerate(events) if not isinstance(e, Mapping)]
        if bad:
            raise InvalidSpec("every event must be a JSON object", {"field": "events", "indexes": bad[:20]})
        warnings = await self._unread_warnings(stream)  # first: a failure here must not follow an append
        ids = await self._producer.append(stream, [json.dumps(e, separators=(",", ":")) for e in events])
        return Ingested(ids, warnings)

    async def _unread_warnings(self, stream: str) -> builtins.list[str]:
        if any(config.stream == stream for config in await self._store.list()):
            return []
        return [f"no pipeline reads stream {stream!r}: its events are kept until a pipeline on it reads them from "
                "the start; check the stream name (GET /v1/pipelines lists each pipeline's stream)"]
