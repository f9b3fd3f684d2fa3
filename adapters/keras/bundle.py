"""The parent's handle on a Keras model: plain bytes and metadata, picklable, no TensorFlow object.

A live Keras model never crosses a process boundary; workers rebuild it from `keras_file`.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

KERAS_FILE = "model.keras"
H5_FILE = "model.h5"
METADATA_FILE = "model.json"
ONNX_FILE = "model.onnx"
FORMAT_VERSION = 1
FIXED_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class KerasBundle:
    task: str  # "classification" | "regression"
    classes: tuple[Any, ...]  # label values in output order; empty for regression
    features: int
    keras_file: bytes
    h5_file: bytes | None = None
    history: Mapping[str, Any] = field(default_factory=dict)  # epochs run, why it stopped

    def class_array(self) -> np.ndarray:
        return np.asarray(self.classes)

    def metadata(self) -> bytes:
        """What a loader needs beside the .keras file; sorted keys so equal models give equal bytes."""
        document = {
            "format": FORMAT_VERSION,
            "task": self.task,
            "classes": list(self.classes),
            "features": self.features,
            "output": "probabilities" if self.task == "classification" else "value",
        }
        return json.dumps(document, sort_keys=True).encode()

    def files(self) -> dict[str, bytes]:
        files = {KERAS_FILE: self.keras_file, METADATA_FILE: self.metadata()}
        if self.h5_file is not None:
            files[H5_FILE] = self.h5_file
        return files

    @classmethod
    def from_files(cls, files: Mapping[str, bytes]) -> KerasBundle:
        """KeyError / ValueError on missing or malformed metadata: the caller maps them."""
        document = json.loads(files[METADATA_FILE])
        if document.get("format") != FORMAT_VERSION:
            raise ValueError(f"unsupported model.json format {document.get('format')!r}")
        return cls(
            task=str(document["task"]),
            classes=tuple(document["classes"]),
            features=int(document["features"]),
            keras_file=files[KERAS_FILE],
            h5_file=files.get(H5_FILE),
        )


def reproducible_archive(archive: bytes) -> bytes:
    """Equal models give equal bytes, so a re-run yields a byte-identical artifact. Keras stamps
    the save time into metadata.json and the zip entries, and numbers shared objects (dtype
    policies) by their Python id(): fix the stamps and renumber ids in order of first mention."""
    source = zipfile.ZipFile(io.BytesIO(archive))
    output = io.BytesIO()
    with zipfile.ZipFile(output, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "metadata.json":
                data = re.sub(rb'"date_saved": "[^"]*"', b'"date_saved": "1980-01-01@00:00:00"', data)
            elif info.filename == "config.json":
                data = _renumber_shared_objects(data.decode()).encode()
            entry = zipfile.ZipInfo(info.filename, date_time=FIXED_ZIP_TIME)
            target.writestr(entry, data, info.compress_type)
    return output.getvalue()


def _renumber_shared_objects(config: str) -> str:
    pattern = r'"shared_object_id": (\d+)'
    ids = {old: str(new) for new, old in enumerate(dict.fromkeys(re.findall(pattern, config)))}
    return re.sub(pattern, lambda m: f'"shared_object_id": {ids[m.group(1)]}', config)
