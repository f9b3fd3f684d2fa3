"""Warehouse on a DuckDB database file."""
