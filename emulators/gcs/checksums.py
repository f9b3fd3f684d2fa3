"""MD5 and CRC32C digests encoded the way Cloud Storage reports them.

GCS sends both hashes as base64 of the raw digest; the CRC32C is the 4-byte
big-endian value. The official client compares these strings verbatim, so the
encoding has to match exactly.
"""

from __future__ import annotations

import base64
import hashlib
import struct

try:  # the C extension ships with google-cloud-storage; fall back so we stand alone
    import google_crc32c as _fast_crc32c
except ImportError:  # pragma: no cover - only without google-crc32c
    _fast_crc32c = None


def _make_table() -> list[int]:
    # Castagnoli polynomial, reflected form.
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
        table.append(crc)
    return table


_TABLE = _make_table()


def crc32c_value(data: bytes) -> int:
    """Return the CRC32C of ``data`` as an unsigned int."""
    if _fast_crc32c is not None:
        return int(_fast_crc32c.value(bytes(data)))
    crc = 0xFFFFFFFF
    for byte in data:  # slow, but keeps the emulator usable without the C extension
        crc = _TABLE[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def crc32c_b64(data: bytes) -> str:
    """Base64 of the big-endian CRC32C, as in ``crc32c`` and ``X-Goog-Hash``."""
    return base64.b64encode(struct.pack(">I", crc32c_value(data))).decode("ascii")


def md5_b64(data: bytes) -> str:
    """Base64 of the MD5 digest, as in ``md5Hash`` and ``X-Goog-Hash``."""
    return base64.b64encode(hashlib.md5(data).digest()).decode("ascii")


def parse_goog_hash(header: str | None) -> dict[str, str]:
    """Split ``crc32c=...,md5=...`` into a dict; unknown or empty input gives {}."""
    result: dict[str, str] = {}
    for part in (header or "").split(","):
        key, sep, value = part.strip().partition("=")
        if sep:
            result[key.strip().lower()] = value.strip()
    return result
