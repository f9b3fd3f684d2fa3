"""Google clients and the adapters built on them, per profile: our emulators (anonymous) or Google (ADC).

Everything Google is imported inside these factories: the `local` profile never needs it, and
importing google-cloud-bigquery alone costs a daemon ~100 MiB and a second of start-up.
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Any

from entrypoints.settings import Settings

if TYPE_CHECKING:
    from google.cloud import bigquery, storage

# Storage clients built for our emulator: there the bucket is mlplane's to create (again, after the
# emulator restarted empty); in gcp the bucket is infrastructure that mlplane does not own.
_EMULATED_STORAGE: weakref.WeakSet[Any] = weakref.WeakSet()


def storage_client(settings: Settings) -> storage.Client:
    from google.api_core.client_options import ClientOptions
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage

    if settings.profile == "emulated":
        client = storage.Client(project=settings.gcp_project, credentials=AnonymousCredentials(),
                                client_options=ClientOptions(api_endpoint=settings.gcs_emulator_url))
        _EMULATED_STORAGE.add(client)
        return client
    return storage.Client(project=settings.gcp_project)  # Application Default Credentials


def bigquery_client(settings: Settings) -> bigquery.Client:
    from google.api_core.client_options import ClientOptions
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import bigquery

    if settings.profile == "emulated":
        return bigquery.Client(project=settings.gcp_project, credentials=AnonymousCredentials(),
                               client_options=ClientOptions(api_endpoint=settings.bigquery_emulator_url))
    return bigquery.Client(project=settings.gcp_project, location=settings.bigquery_location)


def bigquery_warehouse(client: bigquery.Client, dataset: str, location: str) -> Any:
    from adapters.bigquery.warehouse import BigQueryWarehouse

    return BigQueryWarehouse(client, dataset, location)


def gcs_artifact_store(client: storage.Client, bucket: str, prefix: str) -> Any:
    from adapters.gcs.artifact_store import GcsArtifactStore

    return GcsArtifactStore(client, bucket, prefix, create_bucket=client in _EMULATED_STORAGE)


def secret_manager(project: str) -> Any:
    from adapters.secrets.gcp import SecretManagerProvider

    return SecretManagerProvider(project)


def ensure_bucket(client: storage.Client, name: str) -> None:
    """The emulated profile creates its bucket; in gcp the bucket is infrastructure, not ours."""
    if client.lookup_bucket(name) is None:
        client.create_bucket(name)
