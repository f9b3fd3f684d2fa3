"""Byte sizes and the checksums GCS reports for an object (base64 of the big-endian CRC32C and of
the MD5 digest), shared by the GCS emulator suites to check what the emulator returns."""

from __future__ import annotations

import base64
import hashlib
import struct

import google_crc32c

KIB = 1024


def b64_md5(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data).digest()).decode()


def b64_crc32c(data: bytes) -> str:
    return base64.b64encode(struct.pack(">I", google_crc32c.value(data))).decode()
