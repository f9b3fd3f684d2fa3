"""GcsArtifactStore: the ArtifactStore port on a Cloud Storage bucket, under a key prefix.

Atomicity and create-only writes come from GCS itself: every upload replaces the object in one
step, and `ifGenerationMatch` (0 = must not exist) turns a write into a conditional one.
Retries are the client's (`DEFAULT_RETRY`: 429, 5xx, connection errors); preconditions make
the conditional uploads safe to resend. Vendor exceptions are translated once, in `_translated`.
A bucket that is gone (an emulator restarted empty) is made again where mlplane owns it (`create_bucket`,
the emulated profile); elsewhere it is infrastructure, and its absence a TransientError naming it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from typing import TypeVar

import anyio
import requests
from google.api_core import exceptions as gexc
from google.api_core.retry import Retry
from google.auth.exceptions import TransportError
from google.cloud import storage
from google.cloud.storage.exceptions import DataCorruption, InvalidResponse
from google.cloud.storage.retry import DEFAULT_RETRY

from domain.types.errors import (
    ArtifactNotFound,
    Conflict,
    IntegrityError,
    PermanentError,
    TransientError,
)
from domain.types.identifiers import artifact_key

T = TypeVar("T")

# Above the client's 8 MiB multipart limit uploads are resumable; sending them in chunks means a
# retried failure resends one chunk, not the whole artifact. Must be a multiple of 256 KiB.
DEFAULT_CHUNK_SIZE = 8 * 1024 * 1024
_TRANSIENT_STATUS = frozenset({408, 429, 500, 502, 503, 504})
_NETWORK_ERRORS = (requests.RequestException, ConnectionError, TimeoutError, TransportError)


class GcsArtifactStore:
    def __init__(self, client: storage.Client, bucket: str, prefix: str = "", *,
                 chunk_size: int = DEFAULT_CHUNK_SIZE, retry: Retry | None = DEFAULT_RETRY,
                 create_bucket: bool = False) -> None:
        self._bucket = client.bucket(bucket)  # a handle only: nothing is fetched here
        self._prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self._chunk_size = chunk_size
        self._retry = retry
        self._create_bucket = create_bucket

    async def put(self, key: str, data: bytes) -> None:
        # Unconditional, yet safe to retry: resending the same bytes leaves the same object.
        await self._run(key, self._upload, key, data, None)

    async def create(self, key: str, data: bytes) -> bool:
        # False may also mean that our own attempt landed and a retry after its lost reply hit
        # the precondition: callers tell by reading the object (a claim names its job).
        try:
            await self._run(key, self._upload, key, data, 0)
        except Conflict:
            return False
        return True

    async def compare_and_swap(self, key: str, data: bytes, expected_generation: int | None) -> int:
        """Write only if the object is still at `expected_generation` (None: must not exist).

        Returns the new generation; raises Conflict when someone else wrote first (or, after a
        lost reply and a retry, when we did: re-read and compare before giving up).
        """
        return await self._run(key, self._upload, key, data, expected_generation or 0)

    async def get(self, key: str) -> bytes:
        data, _generation = await self.get_with_generation(key)
        return data

    async def get_with_generation(self, key: str) -> tuple[bytes, int]:
        return await self._run(key, self._download, key)

    async def list(self, prefix: str) -> Sequence[str]:
        return await self._run(prefix, self._list, prefix)

    async def delete(self, key: str) -> None:
        await self._run(key, self._delete, key)

    def uri(self, key: str) -> str:
        return f"gs://{self._bucket.name}/{self._prefix}{key}"

    async def _run(self, key: str, call: Callable[..., T], *args: object) -> T:
        with _translated(key):
            try:
                return await anyio.to_thread.run_sync(call, *args)
            except _BucketMissing as exc:
                if not self._create_bucket:
                    raise TransientError(f"cloud storage bucket {self._bucket.name!r} does not exist; create it or "
                                         "set MLPLANE_GCS_BUCKET", {"key": key, "bucket": self._bucket.name}) from exc
                await anyio.to_thread.run_sync(self._make_bucket)
                return await anyio.to_thread.run_sync(call, *args)

    def _make_bucket(self) -> None:
        with suppress(gexc.Conflict):  # another process made it first
            self._bucket.client.create_bucket(self._bucket.name, retry=self._retry)

    def _blob(self, key: str) -> storage.Blob:
        return self._bucket.blob(self._prefix + artifact_key(key))

    def _upload(self, key: str, data: bytes, if_generation_match: int | None) -> int:
        blob = self._blob(key)
        # Only on uploads: a download with chunk_size set is ranged and skips checksum validation.
        blob.chunk_size = self._chunk_size
        try:
            blob.upload_from_string(data, content_type="application/octet-stream", checksum="auto",
                                    if_generation_match=if_generation_match, retry=self._retry)
        except gexc.PreconditionFailed as exc:
            raise Conflict(f"artifact {key!r} changed concurrently", {"key": key}) from exc
        except gexc.NotFound as exc:  # an upload creates its object: only the bucket can be missing
            raise _BucketMissing from exc
        return int(blob.generation)

    def _download(self, key: str) -> tuple[bytes, int]:
        blob = self._blob(key)
        try:
            # checksum="auto" verifies crc32c (or md5) of the whole object: corruption raises.
            data = blob.download_as_bytes(checksum="auto", retry=self._retry)
        except gexc.NotFound as exc:
            raise ArtifactNotFound(f"no artifact at {key!r}", {"key": key}) from exc
        return data, int(blob.generation)  # set from X-Goog-Generation of this very download

    def _list(self, prefix: str) -> Sequence[str]:
        # The iterator follows nextPageToken, so listings of any size come back whole.
        blobs = self._bucket.client.list_blobs(self._bucket, prefix=self._prefix + prefix,
                                               retry=self._retry)
        try:
            return sorted(blob.name[len(self._prefix):] for blob in blobs)
        except gexc.NotFound as exc:  # a listing finds nothing rather than a 404: the bucket is missing
            raise _BucketMissing from exc

    def _delete(self, key: str) -> None:
        # Already gone is fine: possibly removed by our own earlier attempt that a retry repeated.
        with suppress(gexc.NotFound):
            self._blob(key).delete(retry=self._retry)


class _BucketMissing(Exception):
    """Raised inside the store where only a missing bucket explains a 404."""


@contextmanager
def _translated(key: str) -> Iterator[None]:
    """Map google/transport exceptions to the port's Transient/Permanent errors (domain ones pass)."""
    try:
        yield
    except DataCorruption as exc:
        raise IntegrityError(f"checksum mismatch for {key!r}", {"key": key}) from exc
    except (gexc.GoogleAPICallError, InvalidResponse) as exc:
        status = exc.code if isinstance(exc, gexc.GoogleAPICallError) else exc.response.status_code
        error = TransientError if status in _TRANSIENT_STATUS else PermanentError
        raise error(f"cloud storage error {status} for {key!r}", {"key": key, "status": status}) from exc
    except (gexc.RetryError, *_NETWORK_ERRORS) as exc:
        raise TransientError(f"cloud storage unreachable for {key!r}", {"key": key}) from exc
