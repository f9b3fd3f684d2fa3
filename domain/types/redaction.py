"""Text bound for a log line, with the credentials a URL may carry taken out.

Messages name their sources (an ingestion's `https://` or `gs://` URL, a webhook's address), and the
API shows them to the caller who sent them; a log is read by others. A signed URL's query (an
X-Goog-Signature, a SAS token) and a `user:password@` are credentials, so they never reach a log.
"""

from __future__ import annotations

import re

_URL = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<user>[^/\s'\"]*@)?(?P<rest>[^\s?#'\"]*)"
                  r"(?P<query>\?[^\s#'\")\]]*)?")


def redact_urls(text: str) -> str:
    """`text` with every URL's user info (up to the last `@` before the path: a password may hold an
    unescaped `@`) and query replaced by `***` (scheme, host and path kept)."""
    return _URL.sub(_redacted, text)


def _redacted(match: re.Match[str]) -> str:
    user = "***@" if match["user"] else ""
    query = "?***" if match["query"] else ""
    return f"{match['scheme']}{user}{match['rest']}{query}"
