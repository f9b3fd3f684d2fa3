"""Small helpers shared by adapters of different technologies (they must not import each other)."""
