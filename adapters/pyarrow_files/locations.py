"""Where a source or staged file lives: local paths, file:// URIs, gs:// objects (GCS client), and
http(s):// sources (read-only, over ranged GETs: see http_reader.py).

Synchronous on purpose: these run in worker threads and in pool processes. A GCS client is
built once per process from a picklable RemoteConfig, so a pool process can open objects itself; it
also carries which hosts http(s) sources may use (the parameters carrying it are still named `gcs`).
"""

from __future__ import annotations

import contextlib
import functools
import glob
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING
from urllib.parse import unquote, urlparse

from adapters.pyarrow_files.gs_sources import expand_gs
from adapters.pyarrow_files.http_reader import open_url
from adapters.pyarrow_files.http_source import PROBE_TIMEOUT_S, READ_ERRORS, is_http, probe, read_error, submit_error
from adapters.pyarrow_files.local_roots import ANYWHERE, LocalRoots
from adapters.pyarrow_files.temp_files import temp_beside
from adapters.pyarrow_files.url_guard import PUBLIC_ONLY, HostPolicy
from domain.types.errors import InvalidSpec

if TYPE_CHECKING:
    from google.cloud import storage

UNSUPPORTED_SCHEMES = ("s3://",)
READ_CHUNK = 8 << 20  # GCS reads are ranged requests of this size


@dataclass(frozen=True)
class RemoteConfig:
    """How a process reaches remote files: Cloud Storage (where configured) and the http(s) hosts it
    may fetch from. Every reader of files takes one, so both travel to pool processes together."""
    project: str | None = None  # None: no Cloud Storage here (the 'local' profile)
    endpoint: str | None = None  # an emulator (anonymous); None: Google with Application Default Credentials
    hosts: HostPolicy = PUBLIC_ONLY  # which hosts http(s) sources may be fetched from (url_guard.py)


def hosts_of(config: RemoteConfig | None) -> HostPolicy:
    return config.hosts if config is not None else PUBLIC_ONLY  # fail closed


@functools.cache
def _client(config: RemoteConfig) -> storage.Client:
    # Imported here: a staging process that reads local files never pays for the Google client.
    from google.api_core.client_options import ClientOptions
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage

    if config.endpoint:
        return storage.Client(project=config.project, credentials=AnonymousCredentials(),
                              client_options=ClientOptions(api_endpoint=config.endpoint))
    return storage.Client(project=config.project)


def _split_gs(uri: str) -> tuple[str, str]:
    bucket, _, name = uri[len("gs://"):].partition("/")
    return bucket, name


def local_path(uri: str) -> Path:
    """A local path for a plain path or a file:// URI; unsupported schemes are refused clearly."""
    if uri.startswith("file://"):
        return Path(unquote(urlparse(uri).path))
    if uri.startswith(UNSUPPORTED_SCHEMES):
        raise InvalidSpec(f"{uri}: s3 sources are not supported yet; download the file or put it in "
                          "Cloud Storage (gs://) and ingest that", {"field": "sources"})
    if is_http(uri):  # a caller that reached here should have used open_binary (see is_remote)
        raise InvalidSpec(f"{uri} is a URL, not a local file: read it with open_binary", {"field": "sources"})
    return Path(uri)


def is_remote(uri: str) -> bool:
    """Read through open_binary (a Python file object), not natively from a local path."""
    return uri.startswith("gs://") or is_http(uri)


def _gcs(config: RemoteConfig | None, uri: str) -> storage.Client:
    if config is None or config.project is None:
        raise InvalidSpec(f"{uri}: gs:// sources need the 'emulated' or 'gcp' profile", {"field": "sources"})
    return _client(config)


def expand(source: str, gcs: RemoteConfig | None, roots: LocalRoots = ANYWHERE) -> list[str]:
    """Files one source names: a file, a glob, or a directory (its files, not recursive); a URL names itself.
    Local files must lie under `roots` (local_roots.py)."""
    if is_http(source):
        _check_url(source, hosts_of(gcs))
        return [source]
    if source.startswith("gs://"):
        bucket, pattern = _split_gs(source)
        return expand_gs(source, bucket, pattern, _gcs(gcs, source))
    found = [str(p) for p in _expand_local(source, roots)]
    if not found:
        raise InvalidSpec(f"no file matches source {source!r}; check the path (relative paths are resolved "
                          f"from the daemon's working directory {os.getcwd()})", {"field": "sources", "source": source})
    return found


def _expand_local(source: str, roots: LocalRoots) -> list[Path]:
    path = local_path(source)
    roots.check_written(path, source)
    found = _local_files(path)
    for file in found:
        roots.check_found(file, source)
    return found


def _local_files(path: Path) -> list[Path]:
    if glob.has_magic(str(path)):
        return [Path(p).resolve() for p in sorted(glob.glob(str(path))) if os.path.isfile(p)]
    if path.is_dir():
        return sorted(p.resolve() for p in path.iterdir() if p.is_file() and not p.name.startswith("."))
    return [path.resolve()] if path.is_file() else []


def _check_url(url: str, hosts: HostPolicy) -> None:
    """At submit time: answer 4xx now, naming the URL, rather than fail a partition later. No globs: a
    URL with '*' in it is a URL (HTTP has no listing to match against)."""
    try:
        probe(url, hosts, PROBE_TIMEOUT_S)
    except READ_ERRORS as exc:
        raise submit_error(url, exc) from exc


def size(uri: str, gcs: RemoteConfig | None) -> int:
    if is_http(uri):
        try:
            return probe(uri, hosts_of(gcs)).size
        except READ_ERRORS as exc:
            raise read_error(uri, exc) from exc
    if uri.startswith("gs://"):
        bucket, name = _split_gs(uri)
        blob = _gcs(gcs, uri).bucket(bucket).get_blob(name)
        if blob is None:
            raise InvalidSpec(f"no object at {uri}", {"field": "sources", "source": uri})
        return int(blob.size or 0)
    return local_path(uri).stat().st_size


def open_binary(uri: str, gcs: RemoteConfig | None) -> IO[bytes]:
    """A seekable binary reader (the caller closes it)."""
    if is_http(uri):
        return open_url(uri, hosts_of(gcs))
    if uri.startswith("gs://"):
        bucket, name = _split_gs(uri)
        return _gcs(gcs, uri).bucket(bucket).blob(name).open("rb", chunk_size=READ_CHUNK)  # type: ignore[no-any-return]
    return local_path(uri).open("rb")


@contextlib.contextmanager
def publishing(uri: str, gcs: RemoteConfig | None) -> Iterator[Path]:
    """A local temp file to write; on success it replaces `uri` whole (rename, or one upload)."""
    temp = temp_file(uri)
    try:
        yield temp
        publish(temp, uri, gcs)
    finally:
        temp.unlink(missing_ok=True)


def temp_file(uri: str) -> Path:
    """Next to a local target (so the final rename is atomic), else in the temp dir."""
    if uri.startswith("gs://"):
        handle, name = tempfile.mkstemp(prefix="mlplane-staged-")
        os.close(handle)
        return Path(name)
    return temp_beside(local_path(uri))


def publish(temp: Path, uri: str, gcs: RemoteConfig | None) -> None:
    if uri.startswith("gs://"):
        bucket, name = _split_gs(uri)
        _gcs(gcs, uri).bucket(bucket).blob(name).upload_from_filename(str(temp))  # one object write: atomic
        temp.unlink(missing_ok=True)
    else:
        os.replace(temp, local_path(uri))


def remove(uri: str, gcs: RemoteConfig | None) -> None:
    if uri.startswith("gs://"):
        bucket, name = _split_gs(uri)
        with contextlib.suppress(Exception):  # absent already: nothing to remove
            _gcs(gcs, uri).bucket(bucket).blob(name).delete()
    else:
        local_path(uri).unlink(missing_ok=True)
