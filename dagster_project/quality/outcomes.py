"""Turn GX results into per-bailleur outcome rows (contracts §4) and a check summary.

One row per expectation × (bailleur_siren, annee) present in the validated frame, passed or
not, so the scorecard also shows what was checked and found right. A failure that cannot be
pinned on rows (a table-level expectation, a suite that could not run, a frame without
bailleur) gets a row with an empty ``bailleur_siren``: it concerns everyone.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from dagster_project.quality.gx_runner import ExpectationResult
from dagster_project.quality.suites import Suite

BAILLEUR = ["bailleur_siren", "annee"]
NB_EXEMPLES = 5
OUTCOME_SCHEMA = {
    "check": pl.String,
    "suite": pl.String,
    "expectation": pl.String,
    "regle": pl.String,
    "gravite": pl.String,
    "note": pl.String,
    "bailleur_siren": pl.String,
    "annee": pl.Int64,
    "succes": pl.Boolean,
    "nb_lignes_en_echec": pl.Int64,
    "exemples": pl.String,
    "run_id": pl.String,
}


def _describe(frame: pl.DataFrame, keys: list[str]) -> list[str]:
    """"col=valeur, …" for each row of ``frame`` (its keys only)."""
    return [", ".join(f"{k}={row[k]}" for k in keys) for row in frame.select(keys).iter_rows(named=True)]


def _rows_for(check: str, suite: Suite, frame: pl.DataFrame, result: ExpectationResult, run_id: str) -> list[dict]:
    e = result.expectation
    base = {
        "check": check,
        "suite": suite.name,
        "expectation": e.label,
        "regle": e.regle,
        "gravite": e.gravite,
        "note": e.note,
        "run_id": run_id,
    }
    keys = [k for k in suite.cles if k in frame.columns and k not in BAILLEUR]
    attributable = all(k in frame.columns for k in BAILLEUR)
    if result.failing_rows is None:  # the whole table failed, or GX could not evaluate
        exemple = f"contrôle non exécutable : {result.error}" if result.error else "attente portant sur toute la table"
        return [{**base, "bailleur_siren": None, "annee": None, "succes": result.success,
                 "nb_lignes_en_echec": 0, "exemples": None if result.success else exemple}]
    failing = frame.with_row_index("_pos").filter(pl.col("_pos").is_in(list(result.failing_rows)))
    if not attributable:
        return [{**base, "bailleur_siren": None, "annee": None, "succes": result.success,
                 "nb_lignes_en_echec": failing.height,
                 "exemples": " ; ".join(_describe(failing.head(NB_EXEMPLES), keys)) or None}]
    rows = []
    evaluated = frame.select(BAILLEUR).unique()
    by_bailleur = {k: g for k, g in failing.group_by(BAILLEUR)} if failing.height else {}
    for siren, annee in evaluated.sort(BAILLEUR, nulls_last=True).iter_rows():
        group = by_bailleur.get((siren, annee))
        rows.append({**base, "bailleur_siren": siren, "annee": annee, "succes": group is None,
                     "nb_lignes_en_echec": 0 if group is None else group.height,
                     "exemples": None if group is None else " ; ".join(_describe(group.head(NB_EXEMPLES), keys))})
    if not rows:  # empty frame: still say the expectation was evaluated
        rows.append({**base, "bailleur_siren": None, "annee": None, "succes": result.success,
                     "nb_lignes_en_echec": 0, "exemples": None})
    return rows


def outcome_rows(check: str, suite: Suite, frame: pl.DataFrame, results: list[ExpectationResult], run_id: str) -> pl.DataFrame:
    rows = [row for result in results for row in _rows_for(check, suite, frame, result, run_id)]
    return pl.DataFrame(rows, schema=OUTCOME_SCHEMA)


def failure_row(check: str, message: str, run_id: str) -> pl.DataFrame:
    """The outcome of a check that could not even build its frames (missing mart, column…)."""
    return pl.DataFrame(
        [{"check": check, "suite": None, "expectation": "construction des tables à valider",
          "regle": "§6", "gravite": "ERREUR", "note": "Le contrôle n'a pas pu être exécuté.",
          "bailleur_siren": None, "annee": None, "succes": False, "nb_lignes_en_echec": 0,
          "exemples": f"contrôle non exécutable : {message}", "run_id": run_id}],
        schema=OUTCOME_SCHEMA,
    )


@dataclass(frozen=True)
class CheckSummary:
    evaluated: int  # expectations evaluated
    failed: int  # expectations that failed for at least one bailleur (or globally)
    bailleurs_bloques: list[str]  # "<siren>/<annee>" with an ERREUR failure: their trames stop
    bailleurs_avertis: list[str]  # "<siren>/<annee>" with AVERTISSEMENT failures only
    global_error: bool  # an ERREUR failure that concerns every bailleur: stop everything

    @property
    def passed(self) -> bool:
        return self.failed == 0


def _keys(frame: pl.DataFrame) -> list[str]:
    return sorted({f"{s}/{a}" for s, a in frame.select(BAILLEUR).iter_rows()})


def summarize(outcomes: pl.DataFrame) -> CheckSummary:
    expectation = ["suite", "expectation"]
    failures = outcomes.filter(~pl.col("succes"))
    attributed = failures.filter(pl.col("bailleur_siren").is_not_null())
    errors = attributed.filter(pl.col("gravite") == "ERREUR")
    blocked = set(_keys(errors))
    return CheckSummary(
        evaluated=outcomes.select(expectation).unique().height,
        failed=failures.select(expectation).unique().height,
        bailleurs_bloques=sorted(blocked),
        bailleurs_avertis=[k for k in _keys(attributed) if k not in blocked],
        global_error=failures.filter(pl.col("bailleur_siren").is_null() & (pl.col("gravite") == "ERREUR")).height > 0,
    )
