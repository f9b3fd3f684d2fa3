"""redact_urls: a URL's credentials never reach a log line; the rest of the text, host and path stay."""

from __future__ import annotations

import pytest

from domain.types.redaction import redact_urls

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(("text", "expected"), [
    ("partition 0 could not be staged (https://h.example/d/a.csv?X-Goog-Signature=abc&x=1): 403",
     "partition 0 could not be staged (https://h.example/d/a.csv?***): 403"),
    ("redis://user:secret@10.0.0.1:6379/0 refused", "redis://***@10.0.0.1:6379/0 refused"),
    ("'gs://bucket/key.parquet' gone", "'gs://bucket/key.parquet' gone"),
    ("label 'ts' holds datetime64", "label 'ts' holds datetime64"),
    ("http://a/b?t=1 and https://c/d#frag", "http://a/b?*** and https://c/d#frag"),
    ("postgres://user:p@ss@db/x", "postgres://***@db/x"),
])
def test_credentials_in_urls_are_replaced_and_nothing_else(text: str, expected: str) -> None:
    assert redact_urls(text) == expected
