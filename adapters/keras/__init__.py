"""Keras multi-layer perceptrons behind the ModelBackend port; TensorFlow loads only in pool workers."""
