"""Which gs:// objects a source names (a glob, an object, or a folder's objects), checked at submit.

Listings give up after SUBMIT_RETRY_S: an API request waits on them. A bucket that is missing, misspelt
or closed to us is the caller's to fix (a 4xx naming it); a Cloud Storage that does not answer is transient.
"""

from __future__ import annotations

import contextlib
import fnmatch
import glob
from collections.abc import Iterator
from typing import TYPE_CHECKING

from domain.types.errors import InvalidSpec, TransientError

if TYPE_CHECKING:
    from google.api_core.retry import Retry
    from google.cloud import storage

SUBMIT_RETRY_S = 15.0  # how long expanding a gs:// source retries a Cloud Storage that does not answer


def expand_gs(source: str, bucket: str, pattern: str, client: storage.Client) -> list[str]:
    """As a local path expands: a glob matches object names; else the object itself, else the objects directly
    in that folder (`gs://b/dir/` or `gs://b/dir`; not those in folders below it, nor names starting with '.')."""
    with _listing_errors(source, bucket):
        if glob.has_magic(pattern):
            prefix = pattern[:min(pattern.find(c) for c in "*?[" if c in pattern)]
            names = [n for n in _names(client, bucket, prefix) if fnmatch.fnmatchcase(n, pattern)]
        else:
            names = _object_or_folder(client, bucket, pattern)
    found = [f"gs://{bucket}/{n}" for n in sorted(names) if not n.endswith("/")]
    if not found:
        raise InvalidSpec(f"no object matches source {source!r}: check the object name in bucket {bucket!r} (a "
                          "folder takes the objects directly in it)", {"field": "sources", "source": source})
    return found


def _object_or_folder(client: storage.Client, bucket: str, name: str) -> list[str]:
    folder = name.rstrip("/")
    if folder and folder == name and client.bucket(bucket).get_blob(name, retry=_submit_retry()) is not None:
        return [name]
    inside = f"{folder}/" if folder else ""
    return [n for n in _names(client, bucket, inside, "/") if not n[len(inside):].startswith(".")]


def _names(client: storage.Client, bucket: str, prefix: str, delimiter: str | None = None) -> list[str]:
    return [b.name for b in client.list_blobs(bucket, prefix=prefix, delimiter=delimiter, retry=_submit_retry())]


def _submit_retry() -> Retry:
    """The client's retry policy, given up after seconds: an API request (a submit) waits on these listings."""
    from google.cloud.storage.retry import DEFAULT_RETRY

    return DEFAULT_RETRY.with_timeout(SUBMIT_RETRY_S)


@contextlib.contextmanager
def _listing_errors(source: str, bucket: str) -> Iterator[None]:
    """A bucket that is missing, misspelt or closed to us is the caller's to fix (4xx naming it), never a 500."""
    from google.api_core import exceptions as gexc

    details = {"field": "sources", "source": source, "bucket": bucket}
    try:
        yield
    except (ValueError, gexc.BadRequest) as exc:  # the client checks names before it asks; the server too
        raise InvalidSpec(f"{source}: {bucket!r} is not a valid bucket name ({_gcs_message(exc)})", details) from exc
    except gexc.NotFound as exc:
        raise InvalidSpec(f"{source}: there is no bucket named {bucket!r}", details) from exc
    except gexc.Forbidden as exc:
        raise InvalidSpec(f"{source}: mlplane may not list bucket {bucket!r} ({_gcs_message(exc)})", details) from exc
    except (gexc.RetryError, gexc.ServerError, gexc.TooManyRequests) as exc:
        raise TransientError(f"{source}: Cloud Storage is unavailable for now ({_gcs_message(exc)}); try again",
                             details) from exc


def _gcs_message(exc: Exception) -> str:
    return str(getattr(exc, "message", None) or exc)[:200]
