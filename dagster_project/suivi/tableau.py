"""The tracking table (``mart_suivi_campagne``): one row per bailleur expected or seen in a
campaign year, computed on top of the one status of ``dagster_project/status.py``.

[choice] Python, not a dbt model: its inputs are the status (Python), the drop dates
(``fichiers.apparu_le``), the deadlines, the clock and the trames manifest (written after
dbt), and it must be refreshed after the trames of every run. It adds only what tracking
knows: ``ABSENT`` (expected, nothing dropped) and ``REJETE`` (the status' ``INCOMPLET``
because a required sheet was rejected, not merely missing), the drop dates and deadlines.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import polars as pl

from dagster_project import status
from dagster_project.ingest.dropped import version_id
from dagster_project.ingest.rapport import version_report_base
from dagster_project.settings import Paths
from dagster_project.suivi.echeances import Echeances
from dagster_project.suivi.referentiel import NON_REFERENCE, Referentiel

ABSENT, REJETE = "ABSENT", "REJETE"
# Display order: what needs the regional team first.
STATUTS = {
    ABSENT: "absent",
    REJETE: "rejeté",
    status.INCOMPLET: "incomplet",
    status.BLOQUE: "bloqué",
    status.COMPLET: "complet",
    status.PUBLIE: "publié",
}
FEUILLES = status.all_sheets()

SCHEMA = {
    "annee": pl.Int64,
    "bailleur_siren": pl.String,
    "bailleur_nom": pl.String,  # « SIGLE – Raison sociale », or « non référencé »
    "reference": pl.Boolean,  # listed in ref_bailleurs
    "departements": pl.String,  # comma list, from the reference
    "courriels": pl.String,
    "statut": pl.String,  # ABSENT, REJETE, INCOMPLET, BLOQUE, COMPLET, PUBLIE
    "statut_libelle": pl.String,
    "motif": pl.String,  # French
    **{f"{f}_{c}": t for f in FEUILLES for c, t in
       (("verdict", pl.String), ("fichier", pl.String), ("depot", pl.Datetime("us")))},
    "nb_fichiers": pl.Int64,
    "premier_depot": pl.Datetime("us"),
    "dernier_depot": pl.Datetime("us"),
    "depot_complet": pl.Datetime("us"),  # latest drop among the required sheets counted
    "delai": pl.String,  # à l'heure, dans la tolérance, en retard, manquant, attendu
    "dernier_fichier": pl.String,
    "dernier_statut": pl.String,  # ACCEPTE, ACCEPTE_AVEC_AVERTISSEMENTS, REJETE
    "nb_erreurs": pl.Int64,  # of the latest file
    "nb_avertissements": pl.Int64,
    "dernier_rapport": pl.String,  # rapport de contrôle of the latest file (relative to marts)
    "nb_trames": pl.Int64,
    "trames_le": pl.String,  # latest trame written (manifest's generated_at)
    "evalue_le": pl.Datetime("us"),  # the clock when this row was computed
}
NON_ATTRIBUES_SCHEMA = {
    "chemin": pl.String,
    "nom_fichier": pl.String,
    "bailleur_siren": pl.String,
    "annee": pl.Int64,
    "apparu_le": pl.Datetime("us"),
    "motif": pl.String,
    "rapport": pl.String,
}


@dataclass(frozen=True)
class Suivi:
    annee: int
    evalue_le: datetime
    echeances: Echeances
    lignes: pl.DataFrame  # SCHEMA
    non_attribues: pl.DataFrame  # NON_ATTRIBUES_SCHEMA
    problemes_referentiel: tuple[str, ...]
    fichiers: pl.DataFrame  # every file content, with its drop date and rapport (_files)

    def count(self, code: str) -> int:
        return self.lignes.filter(pl.col("statut") == code).height

    def counts(self) -> dict[str, int]:
        return {code: self.count(code) for code in STATUTS}

    def delais(self) -> dict[str, int]:
        return dict(self.lignes.group_by("delai").len().iter_rows()) if self.lignes.height else {}


def _rapport(row: dict) -> str:
    """Where ingestion wrote the file's rapport de contrôle, relative to the marts folder."""
    annee = row["annee"] if row["bailleur_siren"] else None
    base = version_report_base(Path("rapports"), row["bailleur_siren"], annee, row["nom_fichier"],
                               version_id(row["chemin"], row["sha256"]))
    return base.with_name(base.name + ".xlsx").as_posix()


def _files(fichiers: pl.DataFrame | None) -> pl.DataFrame:
    """One row per file version (content at a place), its drop date (``apparu_le``, the
    mtime for rows written before the product recorded it) and its rapport."""
    if fichiers is None or fichiers.is_empty():
        return pl.DataFrame(schema={**NON_ATTRIBUES_SCHEMA, "sha256": pl.String,
                                    "statut": pl.String, "nb_erreurs": pl.Int64,
                                    "nb_avertissements": pl.Int64, "depose_le": pl.Datetime("us")})
    files = fichiers.with_columns(
        pl.col("annee").cast(pl.Int64),
        pl.coalesce(*[c for c in ("apparu_le", "depose_le") if c in fichiers.columns])
        .alias("apparu_le"),
    ).sort("charge_le", descending=True).unique(["sha256", "chemin"], keep="first")  # a version
    files = files.sort("apparu_le", "chemin")
    return files.with_columns(
        pl.struct("bailleur_siren", "annee", "nom_fichier", "chemin", "sha256")
        .map_elements(_rapport, return_dtype=pl.String).alias("rapport"))


def _trames(trames_dir: Path, annee: int) -> dict[str, tuple[int, str]]:
    """SIREN → (number of trames, latest generated_at) from the year's manifest."""
    path = trames_dir / str(annee) / "manifest.json"
    if not path.is_file():
        return {}
    out: dict[str, tuple[int, str]] = {}
    for item in json.loads(path.read_text("utf-8")).get("files", []):
        siren = item.get("bailleur_siren") or ""
        if siren:
            n, last = out.get(siren, (0, ""))
            out[siren] = (n + 1, max(last, item.get("generated_at") or ""))
    return out


def non_attribues(files: pl.DataFrame, referentiel: Referentiel, annee: int) -> pl.DataFrame:
    """Files the product could not attribute to an expected bailleur of ``annee``."""
    rows = []
    for r in files.iter_rows(named=True):
        if r["bailleur_siren"] is None or r["annee"] is None:
            motif = "nom sans SIREN ou sans année (attendu : <siren>_<année>…)"
        elif r["annee"] != annee:
            continue
        elif r["bailleur_siren"] not in referentiel:
            motif = f"SIREN {r['bailleur_siren']} absent de la liste des bailleurs attendus"
        else:
            continue
        rows.append({"chemin": r["chemin"], "nom_fichier": r["nom_fichier"],
                     "bailleur_siren": r["bailleur_siren"], "annee": r["annee"],
                     "apparu_le": r["apparu_le"], "motif": motif, "rapport": r["rapport"]})
    return pl.DataFrame(rows, schema=NON_ATTRIBUES_SCHEMA, orient="row")


def _statut(row: dict | None) -> tuple[str, str]:
    if row is None:
        return ABSENT, "aucun fichier déposé"
    if row["statut"] == status.INCOMPLET and row["feuilles_rejetees"]:
        return REJETE, row["motif"]
    return row["statut"], row["motif"]


def compute(p: Paths, st: status.Status, fichiers: pl.DataFrame | None,
            referentiel: Referentiel, echeances: Echeances, evalue_le: datetime) -> Suivi:
    annee = echeances.annee
    st = st.of_year(annee)
    files = _files(fichiers)
    mine = files.filter(pl.col("annee") == annee)
    by_status = {r["bailleur_siren"]: r for r in st.bailleurs.iter_rows(named=True)}
    sheets: dict[str, dict[str, dict]] = {}
    for r in st.feuilles.iter_rows(named=True):
        sheets.setdefault(r["bailleur_siren"], {})[r["feuille"]] = r
    drop_dates = dict(files.select("sha256", "apparu_le").iter_rows())
    trames = _trames(p.trames, annee)
    sirens = sorted(set(referentiel.bailleurs) | set(by_status))
    rows = []
    for siren in sirens:
        ref = referentiel.bailleurs.get(siren)
        code, motif = _statut(by_status.get(siren))
        if ref is None:
            motif = f"{NON_REFERENCE} : SIREN absent de la liste des bailleurs attendus ; {motif}"
        own = mine.filter(pl.col("bailleur_siren") == siren)
        latest = own.row(-1, named=True) if own.height else None
        row = {
            "annee": annee, "bailleur_siren": siren, "bailleur_nom": referentiel.nom(siren),
            "reference": ref is not None,
            "departements": ",".join(ref.departements) if ref else "",
            "courriels": ",".join(ref.courriels) if ref else "",
            "statut": code, "statut_libelle": STATUTS[code], "motif": motif,
            "nb_fichiers": own.height,
            "premier_depot": own["apparu_le"].min() if own.height else None,
            "dernier_depot": own["apparu_le"].max() if own.height else None,
            "dernier_fichier": latest["chemin"] if latest else None,
            "dernier_statut": latest["statut"] if latest else None,
            "nb_erreurs": latest["nb_erreurs"] if latest else None,
            "nb_avertissements": latest["nb_avertissements"] if latest else None,
            "dernier_rapport": latest["rapport"] if latest else None,
            "nb_trames": trames.get(siren, (0, ""))[0],
            "trames_le": trames.get(siren, (0, ""))[1] or None,
            "evalue_le": evalue_le,
        }
        required_dates = []
        for feuille in FEUILLES:
            s = sheets.get(siren, {}).get(feuille)
            counted = s is not None and s["verdict"] not in (status.ABSENT, status.REJETE)
            depot = drop_dates.get(s["sha256"]) if s and s["sha256"] else None
            row |= {f"{feuille}_verdict": s["verdict"] if s else status.ABSENT,
                    f"{feuille}_fichier": s["chemin"] if s else None,
                    f"{feuille}_depot": depot}
            if feuille in status.required_sheets():
                required_dates.append(depot if counted else None)
        complete = bool(required_dates) and all(required_dates)
        row["depot_complet"] = max(required_dates) if complete else None
        row["delai"] = echeances.delai(row["depot_complet"], evalue_le)
        rows.append(row)
    lignes = pl.DataFrame(rows, schema=SCHEMA, orient="row")
    order = {code: i for i, code in enumerate(STATUTS)}
    lignes = lignes.sort(pl.col("statut").replace_strict(order, return_dtype=pl.Int64),
                         "bailleur_siren")
    return Suivi(annee, evalue_le, echeances, lignes, non_attribues(files, referentiel, annee),
                 referentiel.problemes, files)
