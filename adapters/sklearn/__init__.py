"""scikit-learn models behind the ModelBackend port, serialized with skops (never pickle)."""
