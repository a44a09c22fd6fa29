"""The format d'échange as data: sheets, columns, aliases and control rules.

Everything the reader and the validator need to know about the contract lives in the CSV
tables of ``contrat/`` (one place, editable without touching code):
``feuilles.csv`` (sheets), ``format_echange.csv`` (columns, types, vocabularies, aliases) and
``regles.csv`` (every control rule: code, gravité, French message and hint).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import polars as pl

from dagster_project.ingest.text import fold

CONTRACT_DIR = Path(__file__).parent / "contrat"

ERREUR = "ERREUR"
AVERTISSEMENT = "AVERTISSEMENT"


@dataclass(frozen=True)
class Column:
    sheet: str
    name: str
    # oui | non | piece (one of nb_pieces/typologie) | hors_flux | sauf_en_cours | sauf_etat
    required: str
    type: str
    # a seed name (ref_*) or a literal list "A|B|C"; empty when free
    values: str
    # gravité of a value outside `values`
    out_of_list: str
    min: str
    max: str
    max_length: int  # characters a cell may hold (``longueur_max``, else by type)
    aliases: tuple[str, ...]

    @property
    def strictly_required(self) -> bool:
        return self.required == "oui"

    @property
    def optional(self) -> bool:
        return self.required == "non"


@dataclass(frozen=True)
class Sheet:
    name: str
    required: bool
    aliases: tuple[str, ...]
    columns: tuple[Column, ...]

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


@dataclass(frozen=True)
class Rule:
    code: str
    gravite: str
    scope: str
    message: str
    conseil: str


# Characters a cell may hold when format_echange.csv leaves ``longueur_max`` empty ([choice]).
_DEFAULT_MAX_LENGTH = {"texte": 100, "code": 50, "libelle": 50}


def _split(cell: str | None) -> tuple[str, ...]:
    return tuple(a for a in (cell or "").split("|") if a)


@cache
def sheets() -> dict[str, Sheet]:
    cols = pl.read_csv(CONTRACT_DIR / "format_echange.csv", infer_schema=False).fill_null("")
    by_sheet: dict[str, list[Column]] = {}
    for r in cols.iter_rows(named=True):
        by_sheet.setdefault(r["feuille"], []).append(
            Column(
                sheet=r["feuille"],
                name=r["colonne"],
                required=r["obligatoire"],
                type=r["type"],
                values=r["valeurs"],
                out_of_list=r["hors_liste"],
                min=r["min"],
                max=r["max"],
                max_length=int(r["longueur_max"] or _DEFAULT_MAX_LENGTH.get(r["type"], 30)),
                aliases=_split(r["alias"]),
            )
        )
    table = pl.read_csv(CONTRACT_DIR / "feuilles.csv", infer_schema=False).fill_null("")
    return {
        r["feuille"]: Sheet(
            name=r["feuille"],
            required=r["obligatoire"] == "oui",
            aliases=_split(r["alias"]),
            columns=tuple(by_sheet[r["feuille"]]),
        )
        for r in table.iter_rows(named=True)
    }


@cache
def rules() -> dict[str, Rule]:
    table = pl.read_csv(CONTRACT_DIR / "regles.csv", infer_schema=False)
    return {
        r["regle"]: Rule(r["regle"], r["gravite"], r["portee"], r["message"], r["conseil"])
        for r in table.iter_rows(named=True)
    }


@cache
def rules_frame() -> pl.DataFrame:
    """The rules table, to join onto anomalies."""
    return pl.read_csv(CONTRACT_DIR / "regles.csv", infer_schema=False)


@cache
def sheet_lookup() -> dict[str, str]:
    """Folded sheet name or alias → canonical sheet name."""
    out: dict[str, str] = {}
    for s in sheets().values():
        for name in (s.name, *s.aliases):
            out[fold(name)] = s.name
    return out


@cache
def header_lookup(sheet: str) -> dict[str, str]:
    """Folded header or alias → canonical column name, for one sheet."""
    out: dict[str, str] = {}
    for c in sheets()[sheet].columns:
        for name in (c.name, *c.aliases):
            out[fold(name)] = c.name
    return out


def accepted_names(column: Column) -> str:
    return ", ".join((column.name, *column.aliases))
