"""Small valid bailleur files for the ingestion tests, written by the tests themselves."""

from __future__ import annotations

from pathlib import Path

import polars as pl
from openpyxl import Workbook

from dagster_project.ingest.pipeline import FileSummary, discover_partitions, ingest_partitions
from dagster_project.settings import Paths

SIREN, ANNEE = "552046484", 2024

SHEETS = {
    "logements": [
        ["logement_id", "commune_insee", "qpv", "nb_pieces", "financement", "annee_construction"],
        ["L1", "93066", "oui", "3", "PLAI", "1990"],
        ["L2", "93066", "non", "2", "13", "2005"],
        ["L3", "93008", "non", "5", "PLUS", "1975"],
    ],
    "tours": [
        ["logement_id", "numero_tour", "date_orientation", "destinataire", "categorie_operation",
         "issue", "date_issue"],
        ["L1", "1", "2024-02-01", "PREF93", "", "ECHEC_CARENCE", "2024-03-01"],
        ["L1", "2", "2024-03-05", "BAILLEUR", "", "ATTRIBUE", "2024-04-01"],
        ["L2", "1", "2024-05-01", "HORS_FLUX", "MUTATION_INTERNE", "ATTRIBUE", "2024-05-20"],
        ["L3", "1", "2024-06-01", "ALS", "", "EN_COURS", ""],
    ],
    "conventions": [
        ["reservataire_code", "reservataire_nom", "reservataire_categorie", "reservataire_siren",
         "perimetre_type", "perimetre_code", "taux_flux"],
        ["PREF93", "Préfet 93", "ETAT_PRIORITAIRES", "", "DEPARTEMENT", "93", "25"],
        ["ALS", "Action Logement Services", "ACTION_LOGEMENT", "824541148", "DEPARTEMENT", "93", "30"],
    ],
    "previsionnel": [
        ["departement", "categorie_operation", "nb_logements_prevus"],
        ["93", "MUTATION_INTERNE", "4"],
    ],
}


def sheets(**changes: list[list[str]]) -> dict[str, list[list[str]]]:
    """The sample sheets, some replaced."""
    return {**{k: [list(r) for r in v] for k, v in SHEETS.items()}, **changes}


def csv_text(rows: list[list[str]], sep: str = ";") -> str:
    return "\n".join(sep.join(r) for r in rows) + "\n"


def write_csv(folder: Path, sheet: str, rows: list[list[str]], *, siren: str = SIREN,
              annee: int = ANNEE, sep: str = ";", encoding: str = "utf-8") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{siren}_{annee}_{sheet}.csv"
    path.write_bytes(csv_text(rows, sep).encode(encoding))
    return path


def write_csv_set(folder: Path, data: dict[str, list[list[str]]] | None = None, **kwargs) -> list[Path]:
    return [write_csv(folder, s, rows, **kwargs) for s, rows in (data or SHEETS).items()]


def write_workbook(path: Path, data: dict[str, list[list]] | None = None) -> Path:
    wb = Workbook()
    wb.remove(wb.active)
    for name, rows in (data or SHEETS).items():
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append([None if v == "" else v for v in row])
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def ingest(paths: Paths, run_id: str = "test") -> dict[str, FileSummary]:
    """Ingest every partition of the landing folder; summaries by path relative to landing."""
    summary = ingest_partitions(paths, discover_partitions(paths.landing), run_id, max_workers=1)
    return {f.chemin: f for f in summary.files}


def anomalies(paths: Paths, key: str) -> pl.DataFrame:
    """The anomalies of a file version (``key``: its version, or its sha256 when it is unique)."""
    return pl.read_parquet(paths.raw_store / "anomalies" / f"{key}*.parquet")


def rules(paths: Paths, key: str) -> set[str]:
    return set(anomalies(paths, key)["regle"])
