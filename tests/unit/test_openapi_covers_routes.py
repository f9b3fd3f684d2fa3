"""The OpenAPI document lists every route the API serves, so clients generated from it miss nothing."""

from __future__ import annotations

import importlib
import pkgutil

import entrypoints.api as api
from entrypoints.api.openapi import openapi_document


def _served() -> set[tuple[str, str]]:
    served = set()
    for module in pkgutil.iter_modules(api.__path__):
        if module.name.startswith("routes_"):
            for route in importlib.import_module(f"entrypoints.api.{module.name}").routes:
                served.add((route.method.lower(), route.path))
    return served


def test_every_served_route_is_documented_and_nothing_else() -> None:
    documented = {(method, path) for path, ops in openapi_document()["paths"].items() for method in ops}
    served = _served()
    assert len(served) > 30  # the route tables were found
    assert served - documented == set(), "routes missing from entrypoints/api/openapi.py"
    assert documented - served == set(), "documented routes the API does not serve"
