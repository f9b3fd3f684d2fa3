"""The rejects file of one partition: a CSV of (line, reason, text), opened only when a row is bad."""

from __future__ import annotations

import csv
from typing import IO

from adapters.pyarrow_files.locations import RemoteConfig, publish, remove, temp_file


class RejectsFile:
    def __init__(self, uri: str, gcs: RemoteConfig | None) -> None:
        self._uri = uri
        self._gcs = gcs
        self._temp = temp_file(uri)
        self._handle: IO[str] | None = None
        self._writer: csv.DictWriter[str] | None = None
        self.count = 0

    def add(self, line: int | None, reason: str, text: str) -> None:
        if self._writer is None:
            self._handle = self._temp.open("w", newline="", encoding="utf-8")
            self._writer = csv.DictWriter(self._handle, ["line", "reason", "text"])
            self._writer.writeheader()
        self._writer.writerow({"line": "" if line is None else line, "reason": reason, "text": text[:10_000]})
        self.count += 1

    def close(self) -> str | None:
        """Publish the file whole and return its URI; None when no row was rejected."""
        if self._handle is None:
            self._temp.unlink(missing_ok=True)
            remove(self._uri, self._gcs)  # a previous run of this partition may have left one
            return None
        self._handle.close()
        publish(self._temp, self._uri, self._gcs)
        return self._uri

    def discard(self) -> None:
        if self._handle is not None:
            self._handle.close()
        self._temp.unlink(missing_ok=True)
        self._handle, self._writer, self.count = None, None, 0
