"""KerasModelBackend model files, from a real process pool: saved files that predict the same in a
fresh process (with an .h5 export of the same network), a verified and reproducible ONNX export, a
parent process that never imports TensorFlow, and corrupt or unsafe files refused on load."""

from __future__ import annotations

import importlib.util
import io
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import numpy as np
import pytest

from adapters.keras.backend import KerasModelBackend
from domain.types.errors import PermanentError
from domain.types.training import Task
from tests.integration.keras.keras_support import dataset, ignore_progress, spec

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(importlib.util.find_spec("tensorflow") is None, reason="tensorflow is not installed"),
]
ROOT = Path(__file__).resolve().parents[2]


FRESH_PROCESS = """
import asyncio, sys
from pathlib import Path
import numpy as np
from adapters.keras.backend import KerasModelBackend
from adapters.keras.bundle import KerasBundle

folder = Path(sys.argv[1])
files = {p.name: p.read_bytes() for p in folder.glob("model.*")}
x = np.load(folder / "x.npy")

async def main():
    model = await KerasModelBackend().deserialize("keras_mlp", files)  # no pool: loads in this process
    np.save(folder / "predicted.npy", await KerasModelBackend().predict(model, x))

asyncio.run(main())
import keras
native = keras.saving.load_model(folder / "model.keras", safe_mode=True, compile=False)
legacy = keras.saving.load_model(folder / "model.h5", compile=False)
np.save(folder / "h5_gap.npy", np.abs(native.predict_on_batch(x) - legacy.predict_on_batch(x)).max())
"""


async def test_saved_files_predict_the_same_in_a_fresh_process(backend: KerasModelBackend, tmp_path: Path) -> None:
    data = dataset(Task.CLASSIFICATION)
    model = await backend.fit(spec(Task.CLASSIFICATION, export=["h5"]), data, ignore_progress)
    serialized = await backend.serialize(model, data.features[:50])
    assert {"model.keras", "model.json", "model.h5", "model.onnx"} <= set(serialized.files)
    for name, content in serialized.files.items():
        (tmp_path / name).write_bytes(content)
    np.save(tmp_path / "x.npy", data.features)
    script = textwrap.dedent(FRESH_PROCESS)
    subprocess.run([sys.executable, "-c", script, str(tmp_path)], cwd=ROOT, check=True, timeout=120)
    predicted = np.load(tmp_path / "predicted.npy")
    assert np.array_equal(predicted, await backend.predict(model, data.features))
    assert set(np.unique(predicted)) <= {"yes", "no"}
    assert float(np.load(tmp_path / "h5_gap.npy")) == 0.0  # the .h5 export is the same network


async def test_the_onnx_export_agrees_with_keras_and_loads_in_onnxruntime(backend: KerasModelBackend) -> None:
    import onnxruntime

    data = dataset(Task.REGRESSION)
    model = await backend.fit(spec(Task.REGRESSION), data, ignore_progress)
    serialized = await backend.serialize(model, data.features[:64])
    note = serialized.notes["onnx"]
    assert note["rows"] == 64 and note["max_abs_diff"] <= 1e-5
    session = onnxruntime.InferenceSession(serialized.files["model.onnx"], providers=["CPUExecutionProvider"])
    (outputs,) = session.run(None, {"features": data.features.astype(np.float32)})
    assert np.abs(outputs[:, 0] - await backend.predict(model, data.features)).max() <= 1e-5
    again = await backend.serialize(model, data.features[:64])
    assert again.files == serialized.files  # equal models, equal bytes: .keras and .onnx alike
    unverified = await backend.serialize(model)
    assert "model.onnx" not in unverified.files and "no sample" in unverified.notes["onnx"]["skipped"]


NO_TENSORFLOW = """
import asyncio, sys
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
import numpy as np
from adapters.keras.backend import KerasModelBackend
from adapters.keras.bundle import KerasBundle
from domain.types.dataset import Dataset
from domain.types.training import SourceSpec, Task, TrainingSpec

backend = KerasModelBackend()
assert backend.algorithms()[0].name == "keras_mlp"
assert backend.validate("keras_mlp", Task.REGRESSION, {})["hidden_layers"] == [64, 64]
backend.library_versions()
assert "tensorflow" not in sys.modules and "keras" not in sys.modules, "imported at start"

async def progress(stage, fraction, extra):
    pass

async def main():
    pool = ProcessPoolExecutor(1, mp_context=get_context("forkserver"))
    backend = KerasModelBackend(pool)
    x = np.random.default_rng(0).normal(size=(64, 2))
    spec = TrainingSpec("m", "keras_mlp", Task.REGRESSION, SourceSpec("t", ("a", "b"), "y"), {"epochs": 1})
    model = await backend.fit(spec, Dataset(x, x[:, 0], ("a", "b")), progress)
    await backend.predict(model, x)
    await backend.deserialize("keras_mlp", (await backend.serialize(model, x)).files)
    backend.close()
    pool.shutdown()

if __name__ == "__main__":
    asyncio.run(main())
    assert "tensorflow" not in sys.modules and "keras" not in sys.modules, "imported by the parent"
    print("no tensorflow here")
"""


def test_the_parent_process_never_imports_tensorflow(tmp_path: Path) -> None:
    script = tmp_path / "no_tensorflow.py"  # a file, so the forkserver can re-import its __main__
    script.write_text(textwrap.dedent(NO_TENSORFLOW))
    result = subprocess.run(
        [sys.executable, str(script)], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "no tensorflow here" in result.stdout


async def test_corrupt_or_unsafe_files_are_refused(backend: KerasModelBackend) -> None:
    model = await backend.fit(spec(Task.REGRESSION, epochs=1), dataset(Task.REGRESSION), ignore_progress)
    files = dict((await backend.serialize(model)).files)
    with pytest.raises(PermanentError, match=r"missing: model\.json"):
        await backend.deserialize("keras_mlp", {"model.keras": files["model.keras"]})
    with pytest.raises(PermanentError, match="cannot load"):
        await backend.deserialize("keras_mlp", {**files, "model.keras": files["model.keras"][:500]})
    lambda_activation = '{"module": null, "class_name": "__lambda__", "config": {"value": ["AA==", null, null]}}'
    unsafe = _edit_config(files["model.keras"], '"activation": "relu"', f'"activation": {lambda_activation}')
    # safe mode: a model file cannot make this process run code it carries
    with pytest.raises(PermanentError, match="deserialization of a Python lambda"):
        await backend.deserialize("keras_mlp", {**files, "model.keras": unsafe})


def _edit_config(archive: bytes, old: str, new: str) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(archive))
    assert old.encode() in source.read("config.json")
    output = io.BytesIO()
    with zipfile.ZipFile(output, "w") as target:
        for info in source.infolist():
            content = source.read(info)
            target.writestr(
                info.filename,
                content.replace(old.encode(), new.encode(), 1) if info.filename == "config.json" else content,
            )
    return output.getvalue()
