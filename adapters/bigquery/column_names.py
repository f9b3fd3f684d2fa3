"""Column names BigQuery refuses for a table: a reserved prefix (compared ignoring case) or more than 300
characters. A load with such a column fails at the commit, naming it; a submit can ask first (see
BigQueryWarehouse.column_name_problem), since DuckDB takes these names and the local profile would not warn.
"""

from __future__ import annotations

RESERVED_PREFIXES = ("_PARTITION", "_TABLE_", "_FILE_", "_ROW_TIMESTAMP", "__ROOT__", "_COLIDENTIFIER")
MAX_LENGTH = 300


def column_name_problem(name: str) -> str | None:
    """Why BigQuery would refuse a column named `name`, or None when it takes it."""
    if len(name) > MAX_LENGTH:
        return (f"column {name[:80]!r}... has a name of {len(name)} characters; BigQuery takes at most "
                f"{MAX_LENGTH}: rename it")
    reserved = next((p for p in RESERVED_PREFIXES if name.upper().startswith(p)), None)
    if reserved is not None:
        return (f"column {name!r} starts with {reserved}, a prefix BigQuery reserves (in any case: "
                f"{', '.join(RESERVED_PREFIXES)}): rename it")
    return None
