"""The composition root: the only module that builds adapters and wires them into services.

Profiles choose adapters through Selectors. Nothing connects at import time; resources with a
lifecycle (Redis, DuckDB, the process pool) are opened and closed by `entrypoints.runtime`.
"""

from __future__ import annotations

from datetime import timedelta

from dependency_injector import containers, providers

from adapters._shared.redis_client import redis_client
from adapters.arq.task_queue import ArqTaskQueue
from adapters.arq.worker import queues_not_polled
from adapters.cron.calendar import CroniterCalendar
from adapters.filesystem.artifact_store import FilesystemArtifactStore
from adapters.keras.backend import KerasModelBackend
from adapters.onnx.model_server import OnnxModelServer
from adapters.pyarrow_files.bulk_files import PyArrowBulkFiles
from adapters.redis.event_log import RedisEventLog
from adapters.redis.job_store import RedisJobStore
from adapters.redis_streams.actions import RedisActionLedger, RedisPublishExecutor
from adapters.redis_streams.dead_letters import RedisDeadLetters
from adapters.redis_streams.entity_state import RedisEntityStateStore
from adapters.redis_streams.event_source import RedisEventSource
from adapters.redis_streams.pipeline_store import RedisPipelineStore
from adapters.redis_streams.producer import RedisStreamProducer
from adapters.redis_streams.signal_reader import RedisSignalReader
from adapters.redis_streams.signals import RedisSignalSink
from adapters.redis_streams.windows import RedisWindowStore
from adapters.sklearn.backend import SklearnModelBackend
from adapters.system.clock import RandomIds, SystemClock
from adapters.webhook.executor import WebhookExecutor
from domain.services.actions import WarehouseRecordExecutor
from domain.services.aliases import AliasService
from domain.services.dead_letter_replay import DeadLetterService
from domain.services.inference import InferenceService
from domain.services.ingestion import IngestionService
from domain.services.ingestion_commit import IngestionCommitter
from domain.services.ingestion_planning import IngestionPlanner
from domain.services.ingestion_run import PartitionStager
from domain.services.ingestion_schedules import IngestionScheduleService
from domain.services.job_lifecycle import JobLifecycle
from domain.services.model_backends import RoutingModelBackend
from domain.services.pipelines import PipelineService
from domain.services.registry import ModelRegistry
from domain.services.retention import RetentionService
from domain.services.retrain_jobs import RetrainJobs
from domain.services.retraining import RetrainRunner
from domain.services.schedules import ScheduleService
from domain.services.served_versions import PipelineServedVersions
from domain.services.serving import ModelWatcher
from domain.services.signal_recorder import SignalRecorder
from domain.services.trainer import Trainer
from domain.services.training import TrainingService
from domain.services.training_run import TrainingRunner
from domain.types.lifecycle import RetentionPolicy
from entrypoints.cloud_clients import (
    bigquery_client,
    bigquery_warehouse,
    gcs_artifact_store,
    storage_client,
)
from entrypoints.factories import (
    dedupe_shard_rows,
    duckdb_warehouse,
    fit_pool,
    local_roots,
    remote_files,
    secret_providers,
    staging_pool,
)
from entrypoints.settings import Settings


class Container(containers.DeclarativeContainer):
    settings = providers.Dependency(instance_of=Settings)
    redis_url = providers.Dependency(instance_of=str)
    namespace = providers.Callable(lambda s: s.namespace, settings)

    clock = providers.Singleton(SystemClock)
    ids = providers.Singleton(RandomIds)
    redis = providers.Singleton(redis_client, redis_url)
    secrets = providers.Singleton(secret_providers, settings)

    profile = providers.Callable(lambda s: s.profile, settings)
    gcs = providers.Singleton(storage_client, settings)
    bigquery = providers.Singleton(bigquery_client, settings)
    _bigquery_warehouse = providers.Singleton(
        bigquery_warehouse, bigquery, providers.Callable(lambda s: s.dataset, settings),
        providers.Callable(lambda s: s.bigquery_location, settings),
    )
    warehouse = providers.Selector(
        profile,
        local=providers.Singleton(
            duckdb_warehouse, providers.Callable(lambda s: s.data_dir / "warehouse.duckdb", settings),
            memory_limit=providers.Callable(lambda s: s.duckdb_memory_limit, settings),
        ),
        emulated=_bigquery_warehouse,
        gcp=_bigquery_warehouse,
    )
    _gcs_store = providers.Singleton(
        gcs_artifact_store, gcs, providers.Callable(lambda s: s.gcs_bucket, settings),
        providers.Callable(lambda s: s.bucket_prefix, settings),
    )
    artifacts = providers.Selector(
        profile,
        local=providers.Singleton(
            FilesystemArtifactStore, providers.Callable(lambda s: s.data_dir / "artifacts", settings)
        ),
        emulated=_gcs_store,
        gcp=_gcs_store,
    )
    fit_pool = providers.Singleton(fit_pool, providers.Callable(lambda s: s.fit_processes, settings))
    sklearn_backend = providers.Singleton(SklearnModelBackend, fit_pool)
    # Shares the fit pool: a worker that has run a Keras job keeps TensorFlow loaded (~640 MiB),
    # while the daemon process itself never imports it.
    keras_backend = providers.Singleton(KerasModelBackend, fit_pool)
    backend = providers.Singleton(RoutingModelBackend, providers.List(sklearn_backend, keras_backend))

    jobs = providers.Singleton(
        RedisJobStore, redis, namespace, providers.Callable(lambda s: s.job_retention_s, settings))
    events = providers.Singleton(RedisEventLog, redis, namespace)
    queue = providers.Singleton(ArqTaskQueue, redis, namespace)
    # Readiness: the queues whose poll loop in this process is down (its workers report themselves).
    unpolled_queues = providers.Callable(queues_not_polled)

    registry = providers.Singleton(ModelRegistry, artifacts, clock, events)
    training = providers.Singleton(
        TrainingService,
        warehouse=warehouse, backend=backend, jobs=jobs, events=events, queue=queue, clock=clock, ids=ids,
    )
    lifecycle = providers.Singleton(JobLifecycle, jobs, events, clock)
    trainer = providers.Singleton(Trainer, warehouse=warehouse, backend=backend, registry=registry, clock=clock)
    training_runner = providers.Singleton(TrainingRunner, trainer=trainer, lifecycle=lifecycle)

    aliases = providers.Singleton(AliasService, artifacts, registry, clock)
    pipeline_store = providers.Singleton(RedisPipelineStore, redis, namespace)
    signal_sink = providers.Singleton(RedisSignalSink, redis, namespace)
    # Retention keeps what pipelines serve now (an older version, when they refused the alias's new one).
    retention = providers.Singleton(
        RetentionService, artifacts, registry, aliases, clock,
        providers.Callable(lambda s: RetentionPolicy(s.retention_keep_last, s.retention_keep_days,
                                                     s.retention_alias_days), settings),
        providers.Callable(lambda s: timedelta(hours=s.orphan_grace_hours), settings),
        served=providers.Singleton(PipelineServedVersions, pipeline_store, signal_sink),
    )
    retrain_jobs = providers.Singleton(
        RetrainJobs, jobs=jobs, events=events, queue=queue, clock=clock, ids=ids, aliases=aliases)
    retrain_runner = providers.Singleton(
        RetrainRunner, trainer=trainer, lifecycle=lifecycle, aliases=aliases, retention=retention)
    calendar = providers.Singleton(CroniterCalendar)
    schedules = providers.Singleton(ScheduleService, artifacts, calendar, clock, retrain_jobs)

    # Ingestion: partitions are staged in their own pool (they never open the warehouse); the
    # committer alone needs the warehouse, so a worker that only stages never opens DuckDB.
    ingest_pool = providers.Singleton(staging_pool, providers.Callable(lambda s: s.ingestion_processes, settings))
    bulk_files = providers.Singleton(PyArrowBulkFiles, ingest_pool, providers.Callable(remote_files, settings),
                                     providers.Callable(local_roots, settings))
    max_auto_partitions = providers.Callable(lambda s: max(2, s.ingestion_processes), settings)
    shard_rows = providers.Callable(dedupe_shard_rows, settings)
    ingestion = providers.Singleton(
        IngestionService, files=bulk_files, jobs=jobs, events=events, queue=queue, clock=clock, ids=ids,
        max_auto_partitions=max_auto_partitions, shard_rows=shard_rows, warehouse=warehouse)
    ingestion_planner = providers.Singleton(
        IngestionPlanner, files=bulk_files, jobs=jobs, queue=queue, lifecycle=lifecycle,
        max_auto_partitions=max_auto_partitions, shard_rows=shard_rows)
    partition_stager = providers.Singleton(
        PartitionStager, files=bulk_files, artifacts=artifacts, jobs=jobs, queue=queue, clock=clock,
        lifecycle=lifecycle)
    ingestion_committer = providers.Singleton(
        IngestionCommitter, artifacts=artifacts, warehouse=warehouse, lifecycle=lifecycle)
    ingestion_schedules = providers.Singleton(
        IngestionScheduleService, artifacts, calendar, clock, ingestion, bulk_files)

    # Streaming inference: consumer-group sources, windows, signals, DLQ and pipelines in Redis;
    # ONNX Runtime serving (native predict when a version has no model.onnx); action executors.
    # Factories take the per-pipeline parts (config, stream, group, consumer) at call time.
    stream_producer = providers.Singleton(RedisStreamProducer, redis, namespace)
    dead_letters = providers.Singleton(RedisDeadLetters, redis, namespace,
                                       providers.Callable(lambda s: s.dlq_max_letters, settings))
    max_signal_backlog = providers.Callable(lambda s: s.signals_max_backlog, settings)
    pipelines = providers.Singleton(
        PipelineService, pipeline_store, registry, aliases, signal_sink, stream_producer, dead_letters,
        warehouse=warehouse)
    dead_letter_service = providers.Singleton(DeadLetterService, dead_letters, queue)
    event_source = providers.Factory(RedisEventSource, redis, namespace)
    model_watcher = providers.Factory(
        ModelWatcher, registry=registry, aliases=aliases, server=providers.Singleton(OnnxModelServer),
        backend=backend, events=events, clock=clock)
    inference_service = providers.Factory(
        InferenceService, windows=providers.Singleton(
            RedisWindowStore, redis, namespace,
            cache_bytes=providers.Callable(lambda s: s.window_cache_mb << 20, settings)),
        states=providers.Singleton(RedisEntityStateStore, redis, namespace), signals=signal_sink,
        dead_letters=dead_letters, queue=queue, clock=clock,
        claim_idle_ms=providers.Callable(lambda s: s.inference_claim_idle_ms, settings),
        max_signal_backlog=max_signal_backlog)
    action_ledger = providers.Singleton(RedisActionLedger, redis, namespace)
    webhooks = providers.Singleton(WebhookExecutor, secrets)
    publisher = providers.Singleton(RedisPublishExecutor, redis, namespace,
                                    providers.Callable(lambda s: s.publish_stream_maxlen, settings))
    record_executor = providers.Singleton(WarehouseRecordExecutor, warehouse)  # opened only when used
    signal_reader = providers.Factory(RedisSignalReader, redis, namespace)  # for the signals_table recorders
    signal_recorder = providers.Factory(SignalRecorder, warehouse=warehouse, clock=clock,
                                        claim_idle_ms=providers.Callable(lambda s: s.inference_claim_idle_ms, settings))
