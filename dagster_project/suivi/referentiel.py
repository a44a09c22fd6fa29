"""The bailleurs the campaign expects (seed ``ref_bailleurs``), validated, and their names.

The regional team maintains the seed by hand: a bad row must not stop the campaign. Rows that
break a rule (SIREN not nine digits or with a wrong Luhn key, SIREN twice, no name, unknown
département) are left out and reported in French (tracking workbook, summary); the seed's dbt
tests fail on them in CI.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import polars as pl

from dagster_project.ingest.naming import siren_checksum_ok
from dagster_project.reference import load_seed

SEED = "ref_bailleurs"
COLUMNS = ("bailleur_siren", "raison_sociale", "sigle", "departements", "courriels")
NON_REFERENCE = "non référencé"
_EMAIL = re.compile(r"[^@\s,]+@[^@\s,]+\.[^@\s,]+")


@dataclass(frozen=True)
class Bailleur:
    siren: str
    raison_sociale: str
    sigle: str
    departements: tuple[str, ...]
    courriels: tuple[str, ...]

    @property
    def nom(self) -> str:
        """As shown to people: « SIGLE – Raison sociale », or the raison sociale alone."""
        if self.sigle and self.sigle != self.raison_sociale:
            return f"{self.sigle} – {self.raison_sociale}"
        return self.raison_sociale


@dataclass(frozen=True)
class Referentiel:
    bailleurs: dict[str, Bailleur]
    problemes: tuple[str, ...] = ()  # rows left out, in French

    def nom(self, siren: str | None) -> str:
        """The bailleur's name, or « non référencé » (the SIREN is shown beside it anyway)."""
        b = self.bailleurs.get(siren or "")
        return b.nom if b else NON_REFERENCE

    def __contains__(self, siren: object) -> bool:
        return siren in self.bailleurs


def _split(value: str | None) -> tuple[str, ...]:
    return tuple(v.strip() for v in (value or "").split(",") if v.strip())


def validate(frame: pl.DataFrame, departements: set[str]) -> Referentiel:
    """Every valid row, and one French sentence per row left out (row 2 = first data row)."""
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        return Referentiel({}, (f"Colonnes manquantes dans {SEED}.csv : {', '.join(missing)}.",))
    bailleurs: dict[str, Bailleur] = {}
    problemes: list[str] = []
    for line, row in enumerate(frame.select(COLUMNS).iter_rows(named=True), start=2):
        siren = (row["bailleur_siren"] or "").strip()
        where = f"{SEED}.csv, ligne {line}"
        deps = _split(row["departements"])
        courriels = _split(row["courriels"])
        if not re.fullmatch(r"[0-9]{9}", siren):
            problemes.append(f"{where} : SIREN « {siren} » invalide (9 chiffres attendus).")
        elif not siren_checksum_ok(siren):
            problemes.append(f"{where} : SIREN {siren} invalide (clé de contrôle fausse).")
        elif siren in bailleurs:
            problemes.append(f"{where} : SIREN {siren} en double (ligne ignorée).")
        elif not (row["raison_sociale"] or "").strip():
            problemes.append(f"{where} : raison sociale vide pour le SIREN {siren}.")
        elif unknown := [d for d in deps if d not in departements]:
            problemes.append(f"{where} : département(s) inconnu(s) {', '.join(unknown)}.")
        elif bad := [c for c in courriels if not _EMAIL.fullmatch(c)]:
            problemes.append(f"{where} : courriel(s) invalide(s) {', '.join(bad)}.")
        else:
            bailleurs[siren] = Bailleur(siren, row["raison_sociale"].strip(),
                                        (row["sigle"] or "").strip(), deps, courriels)
    return Referentiel(bailleurs, tuple(problemes))


def load_referentiel() -> Referentiel:
    departements = set(load_seed("ref_departements")["departement"])
    return validate(load_seed(SEED), departements)
