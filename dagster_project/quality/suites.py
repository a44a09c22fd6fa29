"""The expectation suites of ``expectations/``, as plain data.

A suite is a Great Expectations 1.x suite in JSON, written for the regional data team: each
expectation carries ``meta`` = {"regle": "§6.x", "gravite": "ERREUR"|"AVERTISSEMENT",
"note": French sentence}; the suite's own ``meta.cles`` lists the columns that identify an
offending row (the first ones are always ``bailleur_siren``, ``annee`` when the frame has them).
Row filters use GX's structured conditions (``{"type": "comparison", "column": {"name": …},
"operator": "==", "parameter": …}``), not the pandas query strings deprecated since GX 1.9.
Value lists that live in the dbt seeds are written ``{"$PARAMETER": "<name>"}`` and filled at
run time by ``parameters.expectation_parameters``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from dagster_project.settings import EXPECTATIONS_DIR

GRAVITES = ("ERREUR", "AVERTISSEMENT")
_COLUMN_KWARGS = ("column", "column_A", "column_B")


def condition_text(condition: dict[str, Any]) -> str:
    """A GX row condition (its JSON form: comparison, nullity, and, or) as readable text."""
    kind = condition["type"]
    if kind == "comparison":
        return f"{condition['column']['name']} {condition['operator']} {condition['parameter']}"
    if kind == "nullity":
        return f"{condition['column']['name']} {'vide' if condition['is_null'] else 'renseigné'}"
    joiner = " et " if kind == "and" else " ou "
    return "(" + joiner.join(condition_text(c) for c in condition["conditions"]) + ")"


def condition_columns(condition: dict[str, Any]) -> set[str]:
    if "conditions" in condition:
        return set().union(*(condition_columns(c) for c in condition["conditions"]))
    return {condition["column"]["name"]}


class SuiteError(ValueError):
    """A suite file that does not follow the house format (French message)."""


@dataclass(frozen=True)
class Expectation:
    type: str
    kwargs: dict[str, Any]
    regle: str
    gravite: str
    note: str

    @property
    def label(self) -> str:
        """Short readable id: the GX type and the columns it looks at (plus its row filter)."""
        columns = [self.kwargs[k] for k in _COLUMN_KWARGS if k in self.kwargs]
        columns += self.kwargs.get("column_list", [])
        label = f"{self.type}({', '.join(columns)})"
        if condition := self.kwargs.get("row_condition"):
            label += f" si {condition_text(condition)}"
        return label

    def columns(self, available: list[str]) -> set[str]:
        """Columns of ``available`` this expectation reads (row condition included)."""
        if self.type.startswith("expect_table_"):
            return set(available)
        used = {self.kwargs[k] for k in _COLUMN_KWARGS if k in self.kwargs}
        used |= set(self.kwargs.get("column_list", []))
        if condition := self.kwargs.get("row_condition"):
            used |= condition_columns(condition)
        return used & set(available)


@dataclass(frozen=True)
class Suite:
    name: str
    description: str
    cles: tuple[str, ...]
    expectations: tuple[Expectation, ...]
    raw: dict[str, Any]  # the JSON as written, handed to GX untouched

    def columns(self, available: list[str]) -> list[str]:
        """The columns of ``available`` the expectations read (keys are read from the frame
        itself, by row position, when a failure is described)."""
        needed: set[str] = set()
        for expectation in self.expectations:
            needed |= expectation.columns(available)
        return [c for c in available if c in needed]


def _expectation(suite: str, index: int, raw: dict[str, Any]) -> Expectation:
    meta = raw.get("meta") or {}
    missing = [k for k in ("regle", "gravite", "note") if not meta.get(k)]
    if missing:
        raise SuiteError(
            f"Suite « {suite} », attente n° {index + 1} ({raw.get('type')}) : "
            f"meta incomplet, il manque {', '.join(missing)}."
        )
    if meta["gravite"] not in GRAVITES:
        raise SuiteError(
            f"Suite « {suite} », attente n° {index + 1} : gravité « {meta['gravite']} » "
            f"inconnue (attendu : {' ou '.join(GRAVITES)})."
        )
    return Expectation(
        raw["type"], dict(raw.get("kwargs") or {}), meta["regle"], meta["gravite"], meta["note"]
    )


def parse_suite(raw: dict[str, Any]) -> Suite:
    name = raw.get("name") or "?"
    meta = raw.get("meta") or {}
    expectations = tuple(
        _expectation(name, i, e) for i, e in enumerate(raw.get("expectations") or [])
    )
    if not expectations:
        raise SuiteError(f"Suite « {name} » : aucune attente.")
    return Suite(
        name, meta.get("description", ""), tuple(meta.get("cles") or ()), expectations, raw
    )


@cache
def load_suite(name: str, directory: Path = EXPECTATIONS_DIR) -> Suite:
    """``<directory>/<name>.json``; the file name and the suite name must agree."""
    path = directory / f"{name}.json"
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise SuiteError(f"Suite « {name} » illisible ({path.name}) : {error}") from error
    suite = parse_suite(raw)
    if suite.name != name:
        raise SuiteError(
            f"Le fichier {path.name} déclare la suite « {suite.name} » au lieu de « {name} »."
        )
    return suite
