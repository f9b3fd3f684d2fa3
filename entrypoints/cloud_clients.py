"""Google client construction per profile: our emulators (anonymous) or Google (ADC)."""

from __future__ import annotations

from google.api_core.client_options import ClientOptions
from google.auth.credentials import AnonymousCredentials
from google.cloud import bigquery, storage

from entrypoints.settings import Settings


def storage_client(settings: Settings) -> storage.Client:
    if settings.profile == "emulated":
        return storage.Client(project=settings.gcp_project, credentials=AnonymousCredentials(),
                              client_options=ClientOptions(api_endpoint=settings.gcs_emulator_url))
    return storage.Client(project=settings.gcp_project)  # Application Default Credentials


def bigquery_client(settings: Settings) -> bigquery.Client:
    if settings.profile == "emulated":
        return bigquery.Client(project=settings.gcp_project, credentials=AnonymousCredentials(),
                               client_options=ClientOptions(api_endpoint=settings.bigquery_emulator_url))
    return bigquery.Client(project=settings.gcp_project, location=settings.bigquery_location)


def ensure_bucket(client: storage.Client, name: str) -> None:
    """The emulated profile creates its bucket; in gcp the bucket is infrastructure, not ours."""
    if client.lookup_bucket(name) is None:
        client.create_bucket(name)
