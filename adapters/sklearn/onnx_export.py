"""ONNX export of a fitted estimator, verified with onnxruntime before it is kept.

The graph takes float32 `float_input` of shape [None, n_features]; classifiers output arrays
(`label`, `probabilities`: zipmap disabled) and regressors `variable`. A file is only kept when
onnxruntime's output on the holdout sample agrees with the native model within `TOLERANCE`:
float32 thresholds can route a row differently on a tie, and a silently wrong file would be
worse than none. Conversion is deterministic: the same model gives the same bytes.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

ONNX_FILE = "model.onnx"
INPUT_NAME = "float_input"
TOLERANCE = 1e-5


def export_onnx(estimator: Any, sample: np.ndarray | None) -> tuple[bytes | None, dict[str, Any]]:
    """(model.onnx bytes or None, the note for the manifest). Never raises for a failed export."""
    if sample is None or len(sample) == 0:
        return None, {"skipped": "no sample to verify the export against"}
    try:
        data, opset = _convert(estimator, sample.shape[1])
        difference = float(np.max(np.abs(_onnx_outputs(data, sample) - _native_outputs(estimator, sample))))
    except Exception as exc:  # any converter or runtime failure means "no export", never a failed job
        return None, {"skipped": f"conversion failed: {type(exc).__name__}: {str(exc)[:200]}"}
    if not difference <= TOLERANCE:  # also catches NaN
        return None, {"skipped": f"onnxruntime disagrees with the model beyond {TOLERANCE}",
                      "max_abs_diff": difference}
    return data, {"max_abs_diff": difference, "rows": len(sample), "opset": opset}


def _convert(estimator: Any, features: int) -> tuple[bytes, int]:
    from skl2onnx import to_onnx  # imported on use: only export pays for it
    from skl2onnx.common.data_types import FloatTensorType

    _coerce_missing_value_flags()
    options = {id(estimator): {"zipmap": False}} if _is_classifier(estimator) else None
    model = to_onnx(estimator, initial_types=[(INPUT_NAME, FloatTensorType([None, features]))], options=options)
    opset = next(entry.version for entry in model.opset_import if entry.domain in ("", "ai.onnx"))
    return model.SerializeToString(), int(opset)


def _onnx_outputs(data: bytes, sample: np.ndarray) -> np.ndarray:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1  # verification runs inside a pool worker: do not oversubscribe
    session = ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])
    values = session.run(None, {INPUT_NAME: _f32(sample)})
    outputs = {o.name: v for o, v in zip(session.get_outputs(), values, strict=True)}
    result = outputs["probabilities"] if "probabilities" in outputs else outputs["variable"]
    return np.asarray(result, dtype=np.float64).reshape(len(sample), -1)


def _native_outputs(estimator: Any, sample: np.ndarray) -> np.ndarray:
    result = estimator.predict_proba(sample) if _is_classifier(estimator) else estimator.predict(sample)
    return np.asarray(result, dtype=np.float64).reshape(len(sample), -1)


def _is_classifier(estimator: Any) -> bool:
    return hasattr(estimator, "predict_proba")


def _f32(sample: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(sample, dtype=np.float32)


@functools.cache
def _coerce_missing_value_flags() -> None:
    """skl2onnx 1.20's HistGradientBoosting converter passes Python bools for leaves' missing-value
    flags, which onnx >= 1.2x rejects in an INTS attribute ("Expected an int, got a boolean").
    Coerce them to int: the same value ONNX means, and the verification above still has the last
    word on whether the file is kept."""
    from skl2onnx.common import tree_ensemble

    original = getattr(tree_ensemble, "add_node", None)
    if original is None:  # a newer skl2onnx reorganised: nothing to fix here
        return

    @functools.wraps(original)
    def add_node(*args: Any, nodes_missing_value_tracks_true: Any = 0, **kwargs: Any) -> Any:
        return original(*args, nodes_missing_value_tracks_true=int(nodes_missing_value_tracks_true), **kwargs)

    tree_ensemble.add_node = add_node
