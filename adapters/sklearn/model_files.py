"""A fitted estimator as files: a reproducible skops archive (never pickle) plus a verified ONNX export.

Loading trusts only the types in `TRUSTED_TYPES` on top of skops' own defaults, so a tampered
archive cannot name a callable to run; anything that does not parse is a PermanentError.
"""

from __future__ import annotations

import io
import re
import zipfile
from typing import Any

import numpy as np

from adapters.sklearn.onnx_export import ONNX_FILE, export_onnx
from domain.types.errors import PermanentError

MODEL_FILE = "model.skops"
# The fitted tree structures skops does not trust by default: one per algorithm family, and
# nothing more (checked against `sio.get_untrusted_types` of every algorithm x task).
TRUSTED_TYPES = [
    "sklearn.tree._tree.Tree",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
]


def write_files(estimator: Any, sample: np.ndarray | None) -> tuple[dict[str, bytes], dict[str, Any]]:
    """Runs in a pool process: (files, manifest notes)."""
    import skops.io as sio  # here, like sklearn: the daemon imports this module but rarely loads a model

    files = {MODEL_FILE: _reproducible(sio.dumps(estimator))}
    onnx, note = export_onnx(estimator, sample)
    if onnx is not None:
        files[ONNX_FILE] = onnx
    return files, {"onnx": note}


def read_skops(algorithm: str, data: bytes) -> Any:
    """The estimator in a skops archive, refusing untrusted types, corrupt files and wrong algorithms."""
    import skops.io as sio

    from adapters.sklearn.estimators import classes_of

    try:
        untrusted = [t for t in sio.get_untrusted_types(data=data) if t not in TRUSTED_TYPES]
        if untrusted:
            raise PermanentError(f"refusing to load untrusted types: {', '.join(untrusted)}", {"types": untrusted})
        estimator = sio.loads(data, trusted=TRUSTED_TYPES)
    except PermanentError:
        raise
    except Exception as exc:  # skops surfaces corruption as zip, JSON, key or type errors
        raise PermanentError(f"corrupt model file: {type(exc).__name__}: {exc}", {"file": MODEL_FILE}) from exc
    if not isinstance(estimator, classes_of(algorithm)):
        raise PermanentError(f"{MODEL_FILE} holds a {type(estimator).__name__}, not a {algorithm}",
                             {"algorithm": algorithm})
    return estimator


def _reproducible(archive: bytes) -> bytes:
    """Equal models give equal bytes, so a re-run (or a run under injected faults) yields a
    byte-identical artifact. skops names array files after object ids and stamps entries with the
    current time: renumber arrays and memo ids in order of first mention and fix the stamps."""
    source = zipfile.ZipFile(io.BytesIO(archive))
    schema = source.read("schema.json").decode()
    arrays = list(dict.fromkeys(re.findall(r'"(\d+\.npy)"', schema)))
    renamed = {name: f"array{index}.npy" for index, name in enumerate(arrays)}
    schema = re.sub(r'"(\d+\.npy)"', lambda m: f'"{renamed.get(m.group(1), m.group(1))}"', schema)
    ids = {old: str(new) for new, old in enumerate(dict.fromkeys(re.findall(r'"__id__": (\d+)', schema)))}
    schema = re.sub(r'"__id__": (\d+)', lambda m: f'"__id__": {ids[m.group(1)]}', schema)
    output = io.BytesIO()
    with zipfile.ZipFile(output, "w", compression=zipfile.ZIP_DEFLATED) as target:
        for info in sorted(source.infolist(), key=lambda i: renamed.get(i.filename, i.filename)):
            name = renamed.get(info.filename, info.filename)
            data = schema.encode() if name == "schema.json" else source.read(info)
            target.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), data, zipfile.ZIP_DEFLATED)
    return output.getvalue()
