"""Factories the container calls that are more than a constructor: process pools, the secret
chain, how staging processes reach Cloud Storage and http(s) hosts, and the warehouse whose library
loads lazily."""

from __future__ import annotations

import logging
import os
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from adapters._shared.parent_watch import exit_with
from adapters.pyarrow_files.allocator import prefer_returning_allocator
from adapters.pyarrow_files.local_roots import LocalRoots
from adapters.pyarrow_files.locations import RemoteConfig
from adapters.pyarrow_files.url_guard import HostPolicy
from adapters.secrets.providers import ChainedSecretProvider, DirectorySecretProvider, EnvSecretProvider
from entrypoints.cloud_clients import secret_manager
from entrypoints.settings import Settings
from ports.secrets import SecretProvider

log = logging.getLogger(__name__)


def fit_pool(processes: int) -> ProcessPoolExecutor | None:
    # forkserver: never fork a process that holds an event loop, Redis sockets and DuckDB.
    return ProcessPoolExecutor(processes, mp_context=get_context("forkserver"), initializer=exit_with,
                               initargs=(os.getpid(),)) if processes else None


def staging_pool(processes: int) -> ProcessPoolExecutor | None:
    return ProcessPoolExecutor(processes, mp_context=get_context("forkserver"), initializer=_staging_process,
                               initargs=(os.getpid(),)) if processes else None


def _staging_process(parent_pid: int) -> None:
    exit_with(parent_pid)
    prefer_returning_allocator()


def secret_providers(settings: Settings) -> ChainedSecretProvider:
    chain: list[SecretProvider] = [DirectorySecretProvider(settings.secrets_dir)] if settings.secrets_dir else []
    chain.append(EnvSecretProvider())
    if settings.profile == "gcp":
        chain.append(secret_manager(settings.gcp_project))
    return ChainedSecretProvider(chain)


def local_roots(settings: Settings) -> LocalRoots:
    """Where local ingestion sources may be read from; never the daemon's own data or secrets."""
    refused = [settings.data_dir, *([settings.secrets_dir] if settings.secrets_dir else [])]
    roots = LocalRoots.of(settings.ingest_local_roots, refused)
    if Path("/") in roots.allowed:  # e.g. the default root under a service manager that starts us in /
        log.warning("ingestion may read any local file the daemon's user can: the local roots %s include /; "
                    "set MLPLANE_INGEST_LOCAL_ROOTS to the directories sources come from",
                    [str(r) for r in settings.ingest_local_roots])
    return roots


def dedupe_shard_rows(settings: Settings) -> int:
    """Shards serve DuckDB's commit (local), which holds one shard's rows at a time. BigQuery de-duplicates
    in one query whatever the files, so there they would only multiply the staged objects, past the
    10,000 source URIs one load job takes (256 partitions x 64 shards)."""
    return settings.ingest_shard_rows if settings.profile == "local" else 0


def remote_files(settings: Settings) -> RemoteConfig:
    """How planning and staging processes reach gs:// sources and the staged objects (no Cloud Storage
    in 'local'), and which hosts http(s) sources may be fetched from."""
    hosts = HostPolicy(private_hosts=settings.ingest_http_private_hosts)
    if settings.profile == "local":
        return RemoteConfig(hosts=hosts)
    endpoint = settings.gcs_emulator_url if settings.profile == "emulated" else None
    return RemoteConfig(settings.gcp_project, endpoint, hosts)


def duckdb_warehouse(path: Path, memory_limit: str | None = None) -> Any:
    # Imported when first used: workers that only stage partitions or run actions never load DuckDB.
    from adapters.duckdb.warehouse import DuckDBWarehouse

    return DuckDBWarehouse(path, memory_limit=memory_limit)
