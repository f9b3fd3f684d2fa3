"""Column names BigQuery refuses, refused here too with BigQuery's own error, so that what loads on the
emulator loads on BigQuery: a reserved prefix (compared ignoring case) or more than 300 characters.

Checked where a table gets its columns: tables.insert, a schema patch, and a load or query job that
creates (or truncates) its destination.
"""

from __future__ import annotations

from .errors import ApiError, invalid

RESERVED_PREFIXES = ("_PARTITION", "_TABLE_", "_FILE_", "_ROW_TIMESTAMP", "__ROOT__", "_COLIDENTIFIER")
MAX_LENGTH = 300
_SHOWN = 80  # BigQuery quotes a long name cut short


def check_field_names(fields: list[dict]) -> None:
    """Raise the error BigQuery answers for the first field (or nested field) it would refuse."""
    for field in fields:
        problem = field_name_error(str(field.get("name") or ""))
        if problem is not None:
            raise problem
        check_field_names(field.get("fields") or [])


def field_name_error(name: str) -> ApiError | None:
    if len(name) > MAX_LENGTH:
        shown = name[:_SHOWN] + "..."
        return invalid(f'Invalid field name "{shown}". Fields must contain the allowed characters, and be at most '
                       f"{MAX_LENGTH} characters long. For allowed characters, please refer to "
                       "https://cloud.google.com/bigquery/docs/schemas#column_names")
    if name.upper().startswith(RESERVED_PREFIXES):
        return invalid(f'Invalid field name "{name}". Field names are not allowed to start with the '
                       "(case-insensitive) prefixes _PARTITION, _TABLE_, _FILE_, _ROW_TIMESTAMP, __ROOT__ and "
                       "_COLIDENTIFIER")
    return None
