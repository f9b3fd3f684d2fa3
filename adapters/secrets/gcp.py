"""SecretManagerProvider: the SecretProvider port on GCP Secret Manager (latest version, cached).

Values are cached per name for `ttl_seconds`, misses included, so a chain of providers asked
for an unset secret does not call the API every time; a rotated or newly created secret shows
up within one TTL. Values never reach logs or exception messages.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable
from typing import Any

import anyio
import google_crc32c
import requests
from google.api_core import exceptions as gexc
from google.auth.exceptions import TransportError
from google.cloud import secretmanager

from domain.types.errors import IntegrityError, InvalidIdentifier, PermanentError, TransientError
from domain.types.secrets import Secret

log = logging.getLogger(__name__)

_SECRET_NAME = re.compile(r"[A-Za-z0-9_-]{1,255}")  # Secret Manager's own rule for secret ids
_TRANSIENT_STATUS = frozenset({408, 429, 500, 502, 503, 504})


class SecretManagerProvider:
    def __init__(self, project: str, ttl_seconds: float = 300,
                 client: secretmanager.SecretManagerServiceClient | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._project = project
        self._ttl = ttl_seconds
        self._client = client  # built on first use: constructing one runs credential discovery
        self._owns_client = client is None
        self._client_lock = threading.Lock()
        self._clock = clock
        self._cache: dict[str, tuple[float, Secret | None]] = {}

    async def get(self, name: str) -> Secret | None:
        if not _SECRET_NAME.fullmatch(name):  # the name is pasted into a resource path
            raise InvalidIdentifier(f"invalid secret name {name!r}", {"name": name})
        cached = self._cache.get(name)
        if cached is not None and self._clock() < cached[0]:
            return cached[1]
        secret = await anyio.to_thread.run_sync(self._access, name)
        self._cache[name] = (self._clock() + self._ttl, secret)
        return secret

    def close(self) -> None:
        if self._owns_client and self._client is not None:
            self._client.transport.close()

    def _access(self, name: str) -> Secret | None:
        path = f"projects/{self._project}/secrets/{name}/versions/latest"
        try:
            response = self._secret_client().access_secret_version(name=path)
        except gexc.NotFound:
            log.debug("secret %s is not in Secret Manager", name)
            return None
        except gexc.GoogleAPICallError as exc:
            error = TransientError if exc.code in _TRANSIENT_STATUS else PermanentError
            raise error(f"Secret Manager refused {name!r} ({exc.code})", {"name": name}) from exc
        except (gexc.RetryError, requests.RequestException, TransportError) as exc:
            raise TransientError(f"Secret Manager unreachable for {name!r}", {"name": name}) from exc
        return _decode(name, response.payload)

    def _secret_client(self) -> secretmanager.SecretManagerServiceClient:
        with self._client_lock:  # two first reads in two threads must not build two clients
            if self._client is None:
                self._client = secretmanager.SecretManagerServiceClient()
            return self._client


def _decode(name: str, payload: Any) -> Secret | None:
    data: bytes = payload.data
    # The checksum is optional in responses; when present it catches corruption in transit.
    if payload.data_crc32c and google_crc32c.value(data) != payload.data_crc32c:
        raise IntegrityError(f"checksum mismatch for secret {name!r}", {"name": name})
    try:
        value = data.decode("utf-8").strip()  # trailing newline from `--data-file=-`, as files
    except UnicodeDecodeError:
        # `from None`: the decode error holds the raw bytes, which must not reach a traceback.
        raise PermanentError(f"secret {name!r} is not UTF-8 text", {"name": name}) from None
    return Secret(value) if value else None
