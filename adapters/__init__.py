"""Adapters: one package per technology, each fitting one or more ports."""
