"""What a dbt test checks, in French, for the asset checks Dagster shows.

A test's own ``description`` (YAML ``description:``) wins; a generic test without one is said
from its kind and arguments, so that no check reads "No description provided".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def _columns(names) -> str:
    return ", ".join(f"« {n} »" for n in names)


def describe_test(node: Mapping[str, Any]) -> str:
    if node.get("description"):
        return node["description"]
    metadata = node.get("test_metadata") or {}
    kind, kwargs = metadata.get("name"), metadata.get("kwargs") or {}
    column = kwargs.get("column_name") or node.get("column_name") or ""
    severity = (node.get("config") or {}).get("severity", "error").lower()
    said = {
        "not_null": f"La colonne « {column} » est toujours renseignée.",
        "unique": f"Chaque valeur de « {column} » n'apparaît qu'une fois.",
        "accepted_values": f"« {column} » ne prend que les valeurs admises : "
        + ", ".join(map(str, kwargs.get("values") or [])) + ".",
        "relationships": f"Chaque « {column} » existe dans "
        + str(kwargs.get("to", "")).replace("ref('", "« ").replace("')", " »")
        + f" (colonne « {kwargs.get('field', '')} »).",
        "unique_combination": "Une seule ligne par combinaison de "
        + _columns(kwargs.get("columns") or []) + ".",
        "expression_is_true": f"Sur chaque ligne : {kwargs.get('expression', '')}.",
    }.get(kind, f"Test dbt « {node.get('name', '')} ».")
    if severity == "warn":
        said += " (Avertissement, non bloquant.)"
    return said
