"""Settings from MLPLANE_* environment variables and an optional mlplane.toml."""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from domain.services.ingestion_shards import DEFAULT_SHARD_ROWS
from domain.types.lifecycle import MAX_RETENTION_DAYS

Profile = Literal["local", "emulated", "gcp"]
# A worker renews its lease every third of it: under 2 s, a Redis or event-loop stall of a second would
# hand a live worker's jobs to another (run twice); over an hour, a dead worker's jobs wait that long.
WORKER_LEASE_S = (2.0, 3600.0)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MLPLANE_", toml_file="mlplane.toml", extra="ignore")

    profile: Profile = "local"
    env: str = Field(default="dev", pattern=r"^[a-z][a-z0-9-]{0,31}$", description="namespaces every key")
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    data_dir: Path = Path(".mlplane")
    redis_url: str | None = Field(default=None, description="empty: start an embedded server")
    embedded_redis_port: int | None = Field(default=None, ge=1, le=65535, description="the embedded Redis's port; "
                                            "empty: the last start's port when free, else any free one")
    secrets_dir: Path | None = None
    api_token_secret: str = "api-token"
    fit_processes: int = Field(default=1, ge=0, le=64, description="0: fit in threads")
    training_concurrency: int = Field(default=1, ge=1, le=64)
    training_timeout_s: int = Field(default=4 * 3600, ge=10)
    training_max_tries: int = Field(default=5, ge=1, le=50)
    ingestion_processes: int = Field(default_factory=lambda: os.cpu_count() or 1, ge=0, le=64,
                                     description="processes that stage partitions; 0: in threads")
    # Leave out "ingestion" when separate `mlplane worker --queue ingestion` processes (or machines)
    # stage partitions, so the daemon keeps its cores for the API, commits and training.
    daemon_queues: tuple[Literal["training", "ingestion", "commits", "actions"], ...] = (
        "training", "ingestion", "commits", "actions")
    ingest_local_roots: tuple[Path, ...] = Field(default=(Path("."),), min_length=1, description=(
        "directories local ingestion sources must lie under (default: the daemon's working directory); "
        "the data and secrets dirs are refused in any case; [\"/\"]: anywhere"))
    ingest_http_private_hosts: bool = Field(default=False, description=(
        "let http(s) ingestion sources (and their redirects) reach loopback, private and other non-public "
        "addresses: the daemon's own ports and its network; link-local (cloud metadata) stays refused"))
    ingest_shard_rows: int = Field(default=DEFAULT_SHARD_ROWS, ge=0, description=(
        "rows per de-duplication shard of an ingestion's commit: its hash table holds one shard at a "
        "time; 0: one shard. The local profile only: BigQuery de-duplicates in one query"))
    ingestion_timeout_s: int = Field(default=3600, ge=10, description="per partition task")
    ingestion_max_tries: int = Field(default=3, ge=1, le=50)
    worker_lease_seconds: float = Field(default=15.0, description=(  # = adapters.arq.leases.DEFAULT_TTL_S
        "a worker's jobs go to another worker about this long after it dies (kill -9)"))
    # Bounded by default: unbounded, DuckDB caches up to 80% of RAM and keeps it (a 5M-row load left the
    # daemon at ~630 MiB, against ~490 at 256MB and ~365 at 128MB, equally fast: benchmarks/ingestion.py).
    duckdb_memory_limit: str | None = Field(default="256MB", pattern=r"^\d+(\.\d+)?\s*[KMGT]i?B$",
                                            description="e.g. 1GB; empty: DuckDB's own default (80% of RAM)")
    seed_demo: bool = True
    demo_rows: int = Field(default=100_000, ge=100)
    ws_send_timeout_s: float = Field(default=30.0, gt=0, description="an event WebSocket client that accepts "
                                     "nothing this long is closed (1013): a congested link, not a stalled reader")
    max_body_bytes: int = Field(default=1 << 20, ge=1024)
    shutdown_grace_s: float = Field(default=30.0, ge=0)
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    retention_keep_last: int = Field(default=5, ge=1)
    retention_keep_days: float = Field(default=30.0, ge=0, le=MAX_RETENTION_DAYS)
    retention_alias_days: float = Field(default=30.0, ge=0, le=MAX_RETENTION_DAYS)
    orphan_grace_hours: float = Field(default=24.0, ge=0)
    job_retention_days: float = Field(default=30.0, ge=0, le=36500, description="a finished job's record and "
                                      "events are kept this long, then deleted (GET answers 404); 0: forever")
    # streaming inference and actions
    inference_claim_idle_ms: int = Field(default=10_000, ge=10, description="redelivery bound for a dead consumer")
    inference_trim_every_s: float = Field(default=30.0, gt=0)
    window_cache_mb: int = Field(default=64, ge=0, description="per process: copies of recently used entity "
                                 "windows (Redis stays the source of truth; 0 fetches every window every batch)")
    signals_max_backlog: int = Field(default=1_000_000, ge=1, description="a pipeline takes no new input while "
                                     "its signals recorder has more signals than this left to record")
    dlq_max_letters: int = Field(default=100_000, ge=0, description="dead letters kept; past it the oldest are "
                                 "dropped, counted and logged, so a flood of bad events cannot fill Redis; 0: no limit")
    actions_timeout_s: int = Field(default=30, ge=1, description="short, so a killed action is redelivered fast")
    actions_max_tries: int = Field(default=6, ge=1, le=50)
    actions_backoff_base_s: float = Field(default=1.0, gt=0)
    actions_concurrency: int = Field(default=32, ge=1, le=1000)
    publish_stream_maxlen: int = Field(default=100_000, ge=1, description="a `publish` action's stream is cut "
                                       "back to about this many entries (never past one a consumer group has "
                                       "not read), as the signals stream is")
    # emulated / gcp profiles
    gcp_project: str = Field(default="test", pattern=r"^[a-z][a-z0-9-]{1,61}[a-z0-9]$")
    gcs_bucket: str = Field(default="mlplane", pattern=r"^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$")
    gcs_emulator_url: str = "http://127.0.0.1:9023"
    bigquery_emulator_url: str = "http://127.0.0.1:9050"
    bigquery_location: str | None = None

    @field_validator("duckdb_memory_limit", mode="before")
    @classmethod
    def _empty_is_duckdb_default(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("worker_lease_seconds")
    @classmethod
    def _lease_in_bounds(cls, value: float) -> float:
        low, high = WORKER_LEASE_S
        if not low <= value <= high:  # NaN fails too
            raise ValueError(f"MLPLANE_WORKER_LEASE_SECONDS must be between {low:g} and {high:g} seconds, not "
                             f"{value:g}: shorter, a brief stall hands a live worker's jobs to another; longer, "
                             "a dead worker's jobs wait that long")
        return value

    @property
    def namespace(self) -> str:
        return f"mlplane:{self.env}:"

    @property
    def job_retention_s(self) -> int:
        """Whole seconds for Redis EXPIRE; a positive retention never rounds down to 0 (forever)."""
        if self.job_retention_days == 0:
            return 0
        return max(1, round(self.job_retention_days * 86400))

    @property
    def bucket_prefix(self) -> str:
        return f"{self.env}/"

    @property
    def dataset(self) -> str:
        return "mlplane_" + self.env.replace("-", "_")

    @property
    def binds_loopback_only(self) -> bool:
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return self.host == "localhost"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls))
