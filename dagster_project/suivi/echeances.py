"""The campaign calendar of a bilan year (seed ``ref_echeances``) and what a date means in it.

[choice] Configuration as a seed, like the bailleurs' reference: the regional team edits one
CSV row per year, CI checks it (dbt tests), analysts see it in SQL. A year without a row
takes the legal rule: every date is 28 February N+1 (no tolerance).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from dagster_project.reference import load_seed

A_L_HEURE = "à l'heure"
DANS_LA_TOLERANCE = "dans la tolérance"
EN_RETARD = "en retard"
MANQUANT = "manquant"
EN_ATTENTE = "attendu"  # nothing counted yet, the legal date not passed
DELAIS = (A_L_HEURE, DANS_LA_TOLERANCE, EN_RETARD, MANQUANT, EN_ATTENTE)


@dataclass(frozen=True)
class Echeances:
    annee: int
    date_legale: date
    date_tolerance: date
    date_relance: date

    @classmethod
    def legales(cls, annee: int) -> Echeances:
        legal = date(annee + 1, 3, 1) - timedelta(days=1)  # 28 or 29 February N+1
        return cls(annee, legal, legal, legal)

    def delai(self, depot: datetime | None, au: datetime) -> str:
        """Where a bilan complete at ``depot`` (None: not yet) stands, seen at ``au``.

        A date counts for the whole day (Europe/Paris days, read as UTC dates: an hour's
        difference at midnight is not worth a timezone table here)."""
        if depot is None:
            return MANQUANT if au.date() > self.date_legale else EN_ATTENTE
        if depot.date() <= self.date_legale:
            return A_L_HEURE
        if depot.date() <= self.date_tolerance:
            return DANS_LA_TOLERANCE
        return EN_RETARD

    def relance_ouverte(self, au: datetime) -> bool:
        """Absent bailleurs are reminded from ``date_relance`` on."""
        return au.date() >= self.date_relance


def echeances(annee: int) -> Echeances:
    seed = load_seed("ref_echeances")
    rows = seed.filter(seed["annee"] == str(annee))
    if rows.is_empty():
        return Echeances.legales(annee)
    row = rows.row(0, named=True)
    return Echeances(annee, *(date.fromisoformat(row[c]) for c in
                              ("date_legale", "date_tolerance", "date_relance")))
