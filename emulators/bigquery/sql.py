"""Translate BigQuery SQL to DuckDB with sqlglot.

Besides the dialect change this rewrites table references to the DuckDB schema
of their dataset, pins NUMERIC/BIGNUMERIC to the emulator's decimal types, and
wraps every ``@name`` / ``?`` parameter in a CAST to its declared type so NULLs
and arrays bind with the right type.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from .engine import duck_name, schema_name
from .errors import engine_message, invalid_query
from .params import decode_parameter

_DML = {exp.Insert: "INSERT", exp.Update: "UPDATE", exp.Delete: "DELETE", exp.Merge: "MERGE"}
_NUMERIC = exp.DataType.build("DECIMAL(38, 9)", dialect="duckdb")
_BIGNUMERIC = exp.DataType.build("DECIMAL(38, 18)", dialect="duckdb")


@dataclass
class Statement:
    sql: str
    kind: str  # SELECT, INSERT, UPDATE, DELETE, MERGE, CREATE_TABLE, DROP_TABLE, ...
    binds: Any = None
    tables: list[tuple[str, str, str]] = field(default_factory=list)

    @property
    def is_dml(self) -> bool:
        return self.kind in _DML.values()


def _statement_kind(tree: exp.Expression) -> str:
    for node_type, name in _DML.items():
        if isinstance(tree, node_type):
            return name
    if isinstance(tree, exp.Create | exp.Drop | exp.Alter):
        verb = type(tree).__name__.upper()
        kind = str(tree.args.get("kind") or "TABLE").upper()
        suffix = "_AS_SELECT" if isinstance(tree, exp.Create) and tree.expression else ""
        return f"{verb}_{kind}{suffix}"
    return "SELECT"


def _rewrite_tables(tree: exp.Expression, project: str, default_dataset: dict | None) -> list:
    ctes = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
    refs = []
    for table in list(tree.find_all(exp.Table)):
        if not table.name:
            continue
        dataset, proj = table.db, table.catalog or project
        if not dataset:
            if table.name.lower() in ctes or not default_dataset:
                continue
            dataset = default_dataset.get("datasetId")
            proj = default_dataset.get("projectId") or project
        refs.append((proj, dataset, table.name))
        table.set("catalog", None)
        table.set("db", exp.to_identifier(schema_name(proj, dataset), quoted=True))
        table.set("this", exp.to_identifier(duck_name(table.name), quoted=True))
    return refs


def _pin_decimals(tree: exp.Expression) -> None:
    for dtype in list(tree.find_all(exp.DataType)):
        if dtype.this == exp.DataType.Type.DECIMAL and not dtype.expressions:
            dtype.replace(_NUMERIC.copy())
        elif dtype.this == exp.DataType.Type.BIGDECIMAL:
            dtype.replace(_BIGNUMERIC.copy())


def _float_literals(tree: exp.Expression) -> None:
    """BigQuery types ``1.5`` as FLOAT64 where DuckDB would pick a DECIMAL."""
    for lit in list(tree.find_all(exp.Literal)):
        if lit.is_string or not any(c in lit.this for c in ".eE") or isinstance(lit.parent, exp.Cast):
            continue
        lit.replace(exp.Cast(this=lit.copy(), to=exp.DataType.build("DOUBLE")))


def _name_anonymous_columns(tree: exp.Expression) -> None:
    """BigQuery names unnamed result columns f0_, f1_, ...; DuckDB would use the expression text."""
    if not isinstance(tree, exp.Select):
        return
    anonymous = 0
    for projection in list(tree.expressions):
        if isinstance(projection, exp.Alias | exp.Column | exp.Star):
            continue
        projection.replace(exp.alias_(projection.copy(), f"f{anonymous}_"))
        anonymous += 1


def _bind_parameters(tree: exp.Expression, params: list[dict], mode: str | None) -> Any:
    decoded = [decode_parameter(p) for p in params]
    by_name = {(name or "").lower(): (dtype, value) for name, dtype, value in decoded}
    named: dict[str, Any] = {}
    positional: list[Any] = []
    # Depth-first pre-order follows the textual order that numbers positional '?'.
    for node in list(tree.find_all(exp.Parameter, exp.Placeholder, bfs=False)):
        if isinstance(node, exp.Placeholder) and not node.args.get("this"):
            if len(positional) >= len(decoded):
                raise invalid_query("Not enough positional query parameters")
            _name, dtype, value = decoded[len(positional)]
            positional.append(value)
        else:
            name = node.name.lower()
            if name not in by_name:
                raise invalid_query(f"Query parameter '{node.name}' not found")
            dtype, value = by_name[name]
            named[name] = value
            node.set("this", exp.var(name))  # DuckDB matches $names case-sensitively
        node.replace(exp.Cast(this=node.copy(), to=exp.DataType.build(dtype, dialect="duckdb")))
    if (mode or "").upper() == "POSITIONAL" or positional:
        return positional
    return named


def translate(sql: str, project: str, default_dataset: dict | None = None,
              params: list[dict] | None = None, mode: str | None = None) -> list[Statement]:
    """DuckDB statements for one BigQuery query text (a script yields several)."""
    try:
        trees = [t for t in sqlglot.parse(sql, read="bigquery") if t is not None]
    except SqlglotError as exc:
        raise invalid_query(f"Syntax error: {engine_message(exc)}") from exc
    if not trees:
        raise invalid_query("Syntax error: empty query")
    out = []
    for tree in trees:
        refs = _rewrite_tables(tree, project, default_dataset)
        _pin_decimals(tree)
        _float_literals(tree)
        _name_anonymous_columns(tree)
        binds = _bind_parameters(tree, params or [], mode)
        try:
            text = tree.sql(dialect="duckdb")
        except SqlglotError as exc:
            raise invalid_query(f"Unsupported SQL: {engine_message(exc)}") from exc
        out.append(Statement(text, _statement_kind(tree), binds, refs))
    return out
