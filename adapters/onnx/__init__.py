"""ONNX Runtime serving: predicts from a version's verified model.onnx without the training framework."""
