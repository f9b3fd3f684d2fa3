"""The warehouse's dataset: made when missing, on first use and again whenever it vanishes under a
running daemon (an emulator restarted empty, someone deleted it), and swept once per process of the
scratch tables that commits given up on left behind (loads.py drops its own when it can).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from google.api_core import exceptions as gexc
from google.cloud import bigquery

from adapters.bigquery.deadlines import Call
from adapters.bigquery.errors import cause_text, is_transient
from adapters.bigquery.loads import SCRATCH_PREFIX

log = logging.getLogger(__name__)
# A scratch table younger than this may belong to a commit still under way in another process.
SCRATCH_TTL = timedelta(days=1)


class Dataset:
    def __init__(self, client: bigquery.Client, ref: bigquery.DatasetReference, location: str | None,
                 catalog: Call, scratch_ttl: timedelta = SCRATCH_TTL) -> None:
        self._client, self.ref, self._location, self._catalog = client, ref, location, catalog
        self._scratch_ttl = scratch_ttl
        self.ready = False  # checked once per process, and again after is_gone
        self._swept = False

    def ensure(self) -> None:
        # Look before creating: in production the service account may read and load without
        # the right to create datasets, and the dataset usually exists already. Concurrent first
        # calls may both get here; creating with exists_ok keeps that harmless.
        try:
            self._client.get_dataset(self.ref, retry=self._catalog.retry, timeout=self._catalog.timeout)
        except gexc.NotFound:
            dataset = bigquery.Dataset(self.ref)
            dataset.location = self._location
            self._client.create_dataset(dataset, exists_ok=True, retry=self._catalog.retry,
                                        timeout=self._catalog.timeout)
        self.ready = True
        if not self._swept:
            self._swept = True
            self._sweep_scratch()

    def is_gone(self, exc: BaseException) -> bool:
        """Whether `exc` says that this very dataset does not exist ("Not found: Dataset p:d")."""
        message = str(getattr(exc, "message", "") or "")
        return isinstance(exc, gexc.NotFound) and f"Dataset {self.ref.project}:{self.ref.dataset_id}" in message

    def table_names(self) -> list[str]:
        """The user's tables: scratch tables are the adapter's, not part of the catalog."""
        return sorted(t.table_id for t in self._tables() if not t.table_id.startswith(SCRATCH_PREFIX))

    def _tables(self) -> list[bigquery.table.TableListItem]:
        return list(self._client.list_tables(self.ref, retry=self._catalog.retry, timeout=self._catalog.timeout))

    def _sweep_scratch(self) -> None:
        """Best effort: a commit whose retries ran out (BigQuery away) could not drop its scratch table."""
        cutoff = datetime.now(UTC) - self._scratch_ttl
        try:
            stale = [t for t in self._tables()
                     if t.table_id.startswith(SCRATCH_PREFIX) and t.created is not None and t.created <= cutoff]
            for table in stale:
                self._client.delete_table(table.reference, not_found_ok=True, retry=self._catalog.retry,
                                          timeout=self._catalog.timeout)
        except Exception as exc:
            if not (is_transient(exc) or isinstance(exc, gexc.GoogleAPICallError)):
                raise
            log.warning("could not sweep old scratch tables from %s: %s", self.ref.dataset_id, cause_text(exc))
            return
        if stale:
            log.info("dropped %d scratch table(s) left by failed commits in %s", len(stale), self.ref.dataset_id)
