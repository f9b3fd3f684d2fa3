"""Fetch ``gs://`` load sources from a GCS emulator over plain HTTP.

Deliberately independent of the project's GCS emulator code: it speaks only the
public JSON API (object list and ``alt=media`` download).
"""

from __future__ import annotations

import fnmatch
import os
import uuid
from urllib.parse import quote

import aiohttp

from .errors import ApiError, invalid, not_found


def _split(uri: str) -> tuple[str, str]:
    if not uri.startswith("gs://") or "/" not in uri[5:]:
        raise invalid(f"Invalid source URI {uri!r}")
    bucket, _, name = uri[5:].partition("/")
    return bucket, name


async def _list(session: aiohttp.ClientSession, base: str, bucket: str, pattern: str) -> list[str]:
    prefix = pattern.split("*", 1)[0]
    names, token = [], None
    while True:
        params = {"prefix": prefix, **({"pageToken": token} if token else {})}
        async with session.get(f"{base}/storage/v1/b/{quote(bucket, safe='')}/o", params=params) as resp:
            if resp.status == 404:
                raise not_found(f"Bucket {bucket}")
            resp.raise_for_status()
            body = await resp.json(content_type=None)
        names += [item["name"] for item in body.get("items", []) if fnmatch.fnmatchcase(item["name"], pattern)]
        token = body.get("nextPageToken")
        if not token:
            return names


async def _download(session: aiohttp.ClientSession, base: str, bucket: str, name: str, dest: str) -> int:
    url = f"{base}/storage/v1/b/{quote(bucket, safe='')}/o/{quote(name, safe='')}"
    async with session.get(url, params={"alt": "media"}) as resp:
        if resp.status == 404:
            raise not_found(f"URI gs://{bucket}/{name}")
        resp.raise_for_status()
        size = 0
        with open(dest, "wb") as out:
            async for chunk in resp.content.iter_chunked(1 << 20):
                out.write(chunk)
                size += len(chunk)
    return size


async def fetch_sources(base: str | None, uris: list[str], tmp_dir: str) -> tuple[list[str], int]:
    """Download every object matched by ``uris``; returns (local paths, total bytes)."""
    if not base:
        raise invalid("gs:// sources need a GCS emulator (--gcs-url or STORAGE_EMULATOR_HOST)")
    # STORAGE_EMULATOR_HOST is documented to include the scheme, but be lenient.
    base = base.rstrip("/") if "://" in base else f"http://{base.rstrip('/')}"
    paths, total = [], 0
    timeout = aiohttp.ClientTimeout(total=300)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        for uri in uris:
            bucket, name = _split(uri)
            try:
                names = await _list(session, base, bucket, name) if "*" in name else [name]
                if not names:
                    raise not_found(f"No files found matching: {uri}")
                for obj in names:
                    dest = os.path.join(tmp_dir, f"gcs-{uuid.uuid4().hex}")
                    paths.append(dest)
                    total += await _download(session, base, bucket, obj, dest)
            except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
                _discard(paths)
                raise invalid(f"Cannot read {uri} from the GCS emulator: {exc}") from exc
            except ApiError:
                _discard(paths)
                raise
    return paths, total


def _discard(paths: list[str]) -> None:
    for path in paths:
        if os.path.exists(path):
            os.unlink(path)
