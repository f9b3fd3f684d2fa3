"""Bulk source files (CSV, Parquet) read and staged with pyarrow: the BulkFiles port."""
