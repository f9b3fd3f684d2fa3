"""Runs inside a pool worker: convert a Keras model to ONNX and keep it only if it agrees with Keras.

tf2onnx's `from_keras` fails on Keras 3 (KeyError), so the model is traced as a `tf.function` and
converted with `from_function`. That path turns captured eager tensors (the Normalization layer's
mean and variance) into extra graph inputs; they are folded back in as initializers.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from adapters.keras.bundle import ONNX_FILE, KerasBundle
from adapters.keras.inference import load_model, raw_outputs
from adapters.keras.training import portable_errors

OPSET = 17
TOLERANCE = 1e-5  # max abs difference from Keras' own outputs on the sample
INPUT_NAME = "features"


@portable_errors
def files_with_onnx(bundle: KerasBundle, sample: np.ndarray) -> tuple[dict[str, bytes], dict[str, Any]]:
    """The bundle's files plus model.onnx when it verifies; notes say which."""
    files = bundle.files()
    onnx_file, notes = export_onnx(bundle, sample)
    if onnx_file is not None:
        files[ONNX_FILE] = onnx_file
    return files, {"onnx": notes}


def export_onnx(bundle: KerasBundle, sample: np.ndarray) -> tuple[bytes | None, dict[str, Any]]:
    """(model.onnx bytes, notes) when the export agrees with Keras on `sample`; (None, reason) if not."""
    sample = np.asarray(sample, dtype=np.float32)
    try:
        proto = _convert(load_model(bundle.keras_file), bundle.features)
        onnx_outputs = _run(proto.SerializeToString(), sample)
    except Exception as exc:  # any converter or runtime failure means: no ONNX file, say why
        return None, {"skipped": f"conversion failed: {type(exc).__name__}: {str(exc)[:200]}"}
    difference = float(np.max(np.abs(onnx_outputs - raw_outputs(bundle, sample))))
    if not difference <= TOLERANCE:  # also catches NaN
        reason = f"onnxruntime disagrees with the model beyond {TOLERANCE}"
        return None, {"skipped": reason, "max_abs_diff": difference, "rows": len(sample)}
    notes = {"max_abs_diff": difference, "rows": len(sample), "opset": OPSET, "input": INPUT_NAME}
    return proto.SerializeToString(), notes


def _convert(model: Any, features: int) -> Any:
    import tensorflow as tf
    import tf2onnx
    from onnx import numpy_helper

    signature = (tf.TensorSpec((None, features), tf.float32, name=INPUT_NAME),)
    function = tf.function(lambda x: model(x, training=False))
    concrete = function.get_concrete_function(*signature)
    captured = {
        placeholder.name: value.numpy()
        for placeholder, value in zip(concrete.inputs[len(signature) :], concrete.captured_inputs, strict=True)
        if placeholder.dtype != tf.resource
    }
    proto, _ = tf2onnx.convert.from_function(function, input_signature=signature, opset=OPSET)
    inputs = list(proto.graph.input)
    del proto.graph.input[:]
    for graph_input in inputs:
        if graph_input.name in captured:
            proto.graph.initializer.append(numpy_helper.from_array(captured[graph_input.name], graph_input.name))
        else:
            proto.graph.input.append(graph_input)
    _drop_unused_initializers(proto.graph)
    _stable_names(proto.graph)
    return proto


def _stable_names(graph: Any) -> None:
    """Equal models give equal bytes: traced names carry per-process counters (`keras_mlp_3/...`,
    `__inference_<lambda>_3158`, `unk__8`), so inner tensors and nodes are renamed in graph order."""
    graph.name, graph.doc_string = "keras_mlp", ""
    kept = {value.name for value in (*graph.input, *graph.output)}
    names: dict[str, str] = {}

    def rename(name: str) -> str:
        return name if not name or name in kept else names.setdefault(name, f"t{len(names)}")

    for index, node in enumerate(graph.node):
        node.name = f"{node.op_type}_{index}"
        node.input[:] = [rename(name) for name in node.input]
        node.output[:] = [rename(name) for name in node.output]
    for initializer in graph.initializer:
        initializer.name = rename(initializer.name)
    for value in graph.value_info:
        value.name = rename(value.name)
    for value in (*graph.input, *graph.output, *graph.value_info):  # symbolic dims are numbered "unk__8"
        for axis, dim in enumerate(value.type.tensor_type.shape.dim):
            if dim.HasField("dim_param"):
                dim.dim_param = "batch" if axis == 0 else f"dim_{axis}"


def _drop_unused_initializers(graph: Any) -> None:
    used = {name for node in graph.node for name in node.input} | {output.name for output in graph.output}
    kept = [initializer for initializer in graph.initializer if initializer.name in used]
    del graph.initializer[:]
    graph.initializer.extend(kept)


def _run(model_bytes: bytes, sample: np.ndarray) -> np.ndarray:
    import onnxruntime

    session = onnxruntime.InferenceSession(model_bytes, providers=["CPUExecutionProvider"])
    return np.asarray(session.run(None, {INPUT_NAME: sample})[0])
