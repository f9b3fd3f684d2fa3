"""Warehouse on a BigQuery dataset, built on the official google-cloud-bigquery client."""
