"""One refresh of the tracking for a campaign year: table, history, workbook, relances,
rapports per bailleur. Called by the ``suivi_campagne`` asset after every run's trames."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from dagster_project import status
from dagster_project.horloge import maintenant
from dagster_project.settings import Paths
from dagster_project.suivi import classeur, historique, rapport_bailleur, relances, tableau
from dagster_project.suivi.echeances import echeances
from dagster_project.suivi.referentiel import load_referentiel


@dataclass(frozen=True)
class Refresh:
    suivi: tableau.Suivi
    classeur: Path
    instantane: Path
    relances: list[Path]
    rapports: dict[str, Path]  # SIREN → rapport de campagne (HTML)


def compute(p: Paths, annee: int, au: datetime | None = None) -> tableau.Suivi:
    """The tracking of ``annee`` from the status the run wrote (else as ingestion leaves it)."""
    return tableau.compute(p, status.of_year(p, annee), status.read_fichiers(p), load_referentiel(), echeances(annee),
                           au or maintenant())


def refresh(p: Paths, annee: int, au: datetime | None = None) -> Refresh:
    s = compute(p, annee, au)
    snapshot = historique.record(p, s)
    rapports = rapport_bailleur.write_all(p, s)
    return Refresh(s, classeur.write_workbook(p.suivi, s), snapshot,
                   relances.write_drafts(p, s, rapports), rapports)
