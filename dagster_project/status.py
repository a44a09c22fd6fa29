"""The one status of each bailleur and year: which sheet versions count, and may it be published.

Computed here only, from what the stages leave behind: the raw store's file log
(``fichiers``, contracts §2) and the quality status (``quality_bailleur_status``, §4). Every
reader (summary, trames, regional marts, manifest, Dagster metadata, the CLI's progress) uses
these two frames, never its own rule.

Per sheet of the exchange format, the version counted is the one staging keeps: the accepted
file with the greatest (``depose_le``, ``chemin``); its verdict is that file's ``statut``, or
``REJETE`` when only rejected files carry the sheet, or ``ABSENT``.

[choice] Required sheets: those the contract marks ``obligatoire`` (``logements``, ``tours``,
``conventions``): without one of them every figure of the bailleur is wrong (no tours = 0
everywhere). The ``previsionnel`` is required for the prévisionnel trames only.

Statuses, in the order a campaign reaches them:

- ``INCOMPLET``: a required sheet is missing or only rejected (which ones: ``motif``);
- ``COMPLET``: every required sheet has an accepted version, quality not known yet;
- ``BLOQUE``: complete, but a quality rule of ERREUR gravity failed (which, where: ``motif``);
- ``PUBLIE``: complete and unblocked: its trames are written and it counts in the regional
  consolidations. Nothing else is published.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl

from dagster_project.atomic import write_parquet
from dagster_project.ingest import store
from dagster_project.ingest.contract import sheets
from dagster_project.ingest.naming import parse_file_name
from dagster_project.settings import Paths

ACCEPTE, ACCEPTE_AVEC_AVERTISSEMENTS, REJETE, ABSENT = (
    "ACCEPTE",
    "ACCEPTE_AVEC_AVERTISSEMENTS",
    "REJETE",
    "ABSENT",
)
PREVISIONNEL = "previsionnel"
INCOMPLET, COMPLET, BLOQUE, PUBLIE = "INCOMPLET", "COMPLET", "BLOQUE", "PUBLIE"
LIBELLES = {INCOMPLET: "incomplet", COMPLET: "complet", BLOQUE: "bloqué", PUBLIE: "publié"}
VERDICT_LIBELLES = {
    ACCEPTE: "accepté",
    ACCEPTE_AVEC_AVERTISSEMENTS: "accepté avec avertissements",
    REJETE: "rejeté",
    ABSENT: "absent",
}

BAILLEUR = ["bailleur_siren", "annee"]
# Tables under paths().status/<table>/ (read by dbt as source `statut`), published as marts.
STATUS_TABLE, SHEETS_TABLE = "statut_bailleurs", "statut_feuilles"
CURRENT_FILE, SCHEMA_FILE = "courant.parquet", "_schema.parquet"
QUALITY_STATUS = "quality_bailleur_status"
SHEET_SCHEMA = {
    "bailleur_siren": pl.String,
    "annee": pl.Int64,
    "feuille": pl.String,
    "obligatoire": pl.Boolean,
    "verdict": pl.String,  # ACCEPTE, ACCEPTE_AVEC_AVERTISSEMENTS, REJETE, ABSENT
    "chemin": pl.String,  # the version counted (REJETE: the latest rejected file)
    "sha256": pl.String,
    "depose_le": pl.Datetime("us"),
    "rejet_ulterieur": pl.String,  # a later rejected drop of the sheet, not counted
}
STATUS_SCHEMA = {
    "bailleur_siren": pl.String,
    "annee": pl.Int64,
    "statut": pl.String,  # INCOMPLET, COMPLET, BLOQUE, PUBLIE
    "statut_libelle": pl.String,
    "publie": pl.Boolean,
    "feuilles_manquantes": pl.String,  # required sheets never dropped (comma list)
    "feuilles_rejetees": pl.String,  # required sheets only rejected (comma list)
    "previsionnel": pl.Boolean,  # an accepted prévisionnel: the prévisionnel trames exist
    "bloque": pl.Boolean,
    "nb_fichiers": pl.Int64,
    "motif": pl.String,  # French: why it is not published, or what was noticed
}


def required_sheets() -> tuple[str, ...]:
    return tuple(name for name, sheet in sheets().items() if sheet.required)


def all_sheets() -> tuple[str, ...]:
    return tuple(sheets())


def _files(fichiers: pl.DataFrame, annee: int | None) -> pl.DataFrame:
    """One row per file version (content at a place) of identified bailleurs, as stg_fichiers:
    the latest load wins."""
    files = fichiers.filter(pl.col("bailleur_siren").is_not_null() & pl.col("annee").is_not_null())
    files = files.with_columns(
        pl.col("bailleur_siren").cast(pl.String), pl.col("annee").cast(pl.Int64)
    )
    if annee is not None:
        files = files.filter(pl.col("annee") == annee)
    return (
        files.sort("charge_le", "chemin", descending=[True, False], nulls_last=True)
        .unique(["sha256", "chemin"], keep="first", maintain_order=True)
        .sort("depose_le", "chemin")
    )


def _order(f: dict) -> tuple:
    return (f["depose_le"], f["chemin"])


def _meant_for(f: dict, sheet: str) -> bool:
    """Whether a rejected file concerns ``sheet``: it holds that sheet or, when it could not be
    read at all, its name names that sheet (``_tours.csv``) or none (a workbook: any sheet)."""
    if f["feuilles"]:
        return sheet in f["feuilles"]
    named = parse_file_name(f["nom_fichier"] or "").sheet
    return named is None or named == sheet


def _sheet_row(siren: str, annee: int, sheet: str, files: list[dict]) -> dict:
    """``files``: the bailleur's files in drop order (oldest first)."""
    carrying = [f for f in files if sheet in (f["feuilles"] or [])]
    accepted = [f for f in carrying if f["statut"] != REJETE]
    rejected = [f for f in files if f["statut"] == REJETE and _meant_for(f, sheet)]
    counted = accepted[-1] if accepted else (rejected[-1] if rejected else None)
    later = [f for f in rejected if accepted and _order(f) > _order(counted)]
    return {
        "bailleur_siren": siren,
        "annee": annee,
        "feuille": sheet,
        "obligatoire": sheet in required_sheets(),
        "verdict": counted["statut"] if counted else ABSENT,
        "chemin": counted["chemin"] if counted else None,
        "sha256": counted["sha256"] if counted else None,
        "depose_le": counted["depose_le"] if counted else None,
        "rejet_ulterieur": later[-1]["chemin"] if later else None,
    }


def sheet_versions(fichiers: pl.DataFrame | None, annee: int | None = None) -> pl.DataFrame:
    """One row per (bailleur, année, sheet of the format) for every bailleur that dropped a
    file: the version counted and its verdict (``SHEET_SCHEMA``)."""
    if fichiers is None or fichiers.is_empty():
        return pl.DataFrame(schema=SHEET_SCHEMA)
    rows = []
    files = _files(fichiers, annee)
    for (siren, year), group in sorted(files.group_by(BAILLEUR), key=lambda g: g[0]):
        mine = group.sort("depose_le", "chemin").to_dicts()
        rows += [_sheet_row(siren, year, sheet, mine) for sheet in all_sheets()]
    return pl.DataFrame(rows, schema=SHEET_SCHEMA, orient="row")


def _quality(quality: pl.DataFrame | None) -> dict[tuple[str, int], tuple[bool, str]]:
    if quality is None or quality.is_empty():
        return {}
    return {
        (str(r["bailleur_siren"]), int(r["annee"])): (bool(r["bloque"]), r.get("resume") or "")
        for r in quality.iter_rows(named=True)
    }


def _motif(
    missing: list[str], rejected: list[str], blocked: bool, resume: str, later: list[dict]
) -> str:
    parts = []
    if missing:
        parts.append(f"feuille(s) obligatoire(s) jamais déposée(s) : {', '.join(missing)}")
    if rejected:
        parts.append(f"feuille(s) obligatoire(s) rejetée(s), à redéposer : {', '.join(rejected)}")
    if blocked and resume:
        parts.append(resume.rstrip("."))
    for row in later:
        parts.append(
            f"dépôt rejeté de la feuille {row['feuille']} ({row['rejet_ulterieur']}) : "
            f"la version précédente ({row['chemin']}) reste comptée"
        )
    return " ; ".join(parts) + ("." if parts else "")


def bailleur_status(
    fichiers: pl.DataFrame | None, quality: pl.DataFrame | None = None, annee: int | None = None
) -> pl.DataFrame:
    """One row per (bailleur, année) that dropped a file (``STATUS_SCHEMA``). ``quality`` is
    the quality status (``bailleur_siren``, ``annee``, ``bloque``, ``resume``), None before
    the checks ran: complete bailleurs are then ``COMPLET``, not yet ``PUBLIE``."""
    versions = sheet_versions(fichiers, annee)
    if versions.is_empty():
        return pl.DataFrame(schema=STATUS_SCHEMA)
    counts = {
        (siren, year): n for siren, year, n in _files(fichiers, annee).group_by(BAILLEUR).len().iter_rows()
    }
    checked = _quality(quality)
    rows = []
    for (siren, annee), group in sorted(versions.group_by(BAILLEUR), key=lambda g: g[0]):
        sheets_ = sorted(group.to_dicts(), key=lambda s: all_sheets().index(s["feuille"]))
        required = [s for s in sheets_ if s["obligatoire"]]
        missing = [s["feuille"] for s in required if s["verdict"] == ABSENT]
        rejected = [s["feuille"] for s in required if s["verdict"] == REJETE]
        blocked, resume = checked.get((siren, annee), (False, ""))
        if missing or rejected:
            statut = INCOMPLET
        elif quality is None:
            statut = COMPLET
        else:
            statut = BLOQUE if blocked else PUBLIE
        later = [s for s in sheets_ if s["rejet_ulterieur"]]
        rows.append(
            {
                "bailleur_siren": siren,
                "annee": annee,
                "statut": statut,
                "statut_libelle": LIBELLES[statut],
                "publie": statut == PUBLIE,
                "feuilles_manquantes": ", ".join(missing),
                "feuilles_rejetees": ", ".join(rejected),
                "previsionnel": any(
                    s["feuille"] == PREVISIONNEL and s["verdict"] not in (ABSENT, REJETE)
                    for s in sheets_
                ),
                "bloque": blocked,
                "nb_fichiers": counts[(siren, annee)],
                "motif": _motif(missing, rejected, blocked, resume, later),
            }
        )
    return pl.DataFrame(rows, schema=STATUS_SCHEMA, orient="row")


def published(status: pl.DataFrame) -> set[tuple[str, int]]:
    """The (bailleur_siren, annee) whose figures are published."""
    if status.is_empty():
        return set()
    rows = status.filter(pl.col("publie")).select(BAILLEUR)
    return {(str(s), int(a)) for s, a in rows.iter_rows()}


def short_reason(row: dict) -> str:
    """Why a bailleur is not published, in a few words (a note of a regional trame)."""
    if row["statut"] == INCOMPLET:
        parts = [f"{s} absente" for s in filter(None, row["feuilles_manquantes"].split(", "))]
        parts += [f"{s} rejetée" for s in filter(None, row["feuilles_rejetees"].split(", "))]
        return "incomplet : " + ", ".join(parts)
    if row["statut"] == BLOQUE:
        return "bloqué par le contrôle qualité"
    return row["statut_libelle"]


def excluded(status: pl.DataFrame, *, short: bool = False) -> dict[tuple[str, int], str]:
    """The bailleurs not published, with why (French: status and motif, or ``short_reason``)."""
    if status.is_empty():
        return {}
    return {
        (str(r["bailleur_siren"]), int(r["annee"])): short_reason(r)
        if short
        else f"{r['statut_libelle']} : {r['motif']}"
        for r in status.filter(~pl.col("publie")).iter_rows(named=True)
    }


def markdown_table(status: pl.DataFrame) -> str:
    """The status of every bailleur as a French Markdown table (summary, Dagster UI)."""
    lines = ["| bailleur | année | fichiers | statut | motif |", "| --- | --- | --- | --- | --- |"]
    for r in status.sort(BAILLEUR).iter_rows(named=True):
        motif = (r["motif"] or "").replace("|", "/")
        lines.append(
            f"| {r['bailleur_siren']} | {r['annee']} | {r['nb_fichiers']} "
            f"| {r['statut_libelle']} | {motif} |"
        )
    return "\n".join(lines)


@dataclass(frozen=True)
class Status:
    bailleurs: pl.DataFrame  # STATUS_SCHEMA
    feuilles: pl.DataFrame  # SHEET_SCHEMA

    def of_year(self, annee: int | None) -> Status:
        if annee is None:
            return self
        year = pl.col("annee") == annee
        return Status(self.bailleurs.filter(year), self.feuilles.filter(year))


def read_fichiers(p: Paths) -> pl.DataFrame:
    """The raw store's file log (contracts §2), read as the ingestion reads it."""
    return store.read_registry(p.raw_store)


def of_year(p: Paths, annee: int | None) -> Status:
    """The status the run's ``statut_bailleurs`` asset wrote, for ``annee``; when the run did not
    get that far, the status as ingestion leaves it (quality unknown)."""
    written = read(p.status).of_year(annee)
    if written.bailleurs.is_empty():
        return compute(p, annee, with_quality=False)
    return written


def latest_annee(p: Paths) -> int | None:
    """The most recent bilan year of the file log (the year a run without one works on)."""
    value = read_fichiers(p)["annee"].max()
    return int(value) if value is not None else None


def compute(p: Paths, annee: int | None = None, *, with_quality: bool = True) -> Status:
    """The status from what ingestion and the quality stage left behind. ``with_quality``
    False: as known right after ingestion (complete bailleurs are ``COMPLET``)."""
    fichiers = read_fichiers(p)
    quality_file = p.scorecard / f"{QUALITY_STATUS}.parquet"
    quality = pl.read_parquet(quality_file) if with_quality and quality_file.is_file() else None
    return Status(bailleur_status(fichiers, quality, annee), sheet_versions(fichiers, annee))


def table_file(root: Path, table: str) -> Path:
    return root / table / CURRENT_FILE


def ensure_schema(root: Path) -> None:
    """A zero-row file per table, so dbt reads an empty status before the first one is written."""
    for table, schema in ((STATUS_TABLE, STATUS_SCHEMA), (SHEETS_TABLE, SHEET_SCHEMA)):
        target = root / table / SCHEMA_FILE
        if not target.is_file():
            write_parquet(pl.DataFrame(schema=schema), target)


def write(root: Path, status: Status) -> None:
    ensure_schema(root)
    write_parquet(status.bailleurs, table_file(root, STATUS_TABLE))
    write_parquet(status.feuilles, table_file(root, SHEETS_TABLE))


def read(root: Path) -> Status:
    """The status last written under ``root`` (empty when none was)."""
    def one(table: str, schema: dict) -> pl.DataFrame:
        path = table_file(root, table)
        return pl.read_parquet(path) if path.is_file() else pl.DataFrame(schema=schema)

    return Status(one(STATUS_TABLE, STATUS_SCHEMA), one(SHEETS_TABLE, SHEET_SCHEMA))
