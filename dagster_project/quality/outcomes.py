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


# Provenance columns read better in French in the summaries sent to the regional team.
KEY_LABELS = {"_source_file": "fichier", "_row_number": "ligne"}


def _describe(frame: pl.DataFrame, keys: list[str]) -> list[str]:
    """ "col=valeur, …" for each row of ``frame`` (its keys only)."""
    return [
        ", ".join(f"{KEY_LABELS.get(k, k)}={row[k]}" for k in keys)
        for row in frame.select(keys).iter_rows(named=True)
    ]


def _rows_for(
    base: dict,
    frame: pl.DataFrame,
    keys: list[str],
    evaluated: list[tuple] | None,
    result: ExpectationResult,
) -> list[dict]:
    def row(siren, annee, failing: pl.DataFrame | None, exemples: str | None = None) -> dict:
        n = 0 if failing is None else failing.height
        if failing is not None and n:
            exemples = " ; ".join(_describe(failing.head(NB_EXEMPLES), keys))
        return {
            **base,
            "bailleur_siren": siren,
            "annee": annee,
            "succes": failing is None or n == 0,
            "nb_lignes_en_echec": n,
            "exemples": exemples,
        }

    if result.failing_rows is None:  # the whole table failed, or GX could not evaluate
        if result.success:
            return [row(None, None, None)]
        why = (
            f"contrôle non exécutable : {result.error}"
            if result.error
            else "attente portant sur toute la table"
        )
        return [{**row(None, None, None, why), "succes": False}]
    failing = frame[list(result.failing_rows)]
    if evaluated is None:  # frame without bailleur: one row for everyone
        return [row(None, None, failing)]
    groups = {key: group for key, group in failing.group_by(BAILLEUR)} if failing.height else {}
    return [row(siren, annee, groups.get((siren, annee))) for siren, annee in evaluated] or [
        row(None, None, None)
    ]


def outcome_rows(
    check: str, suite: Suite, frame: pl.DataFrame, results: list[ExpectationResult], run_id: str
) -> pl.DataFrame:
    keys = [k for k in suite.cles if k in frame.columns and k not in BAILLEUR]
    attributable = all(k in frame.columns for k in BAILLEUR)
    # Every (bailleur, année) of the frame is reported, passed or not; an empty frame still
    # says the expectation was evaluated (one row without bailleur).
    evaluated = (
        frame.select(BAILLEUR).unique().sort(BAILLEUR, nulls_last=True).rows()
        if attributable
        else None
    )
    rows = []
    for result in results:
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
        rows += _rows_for(base, frame, keys, evaluated, result)
    return pl.DataFrame(rows, schema=OUTCOME_SCHEMA)


def failure_row(check: str, message: str, run_id: str) -> pl.DataFrame:
    """The outcome of a check that could not even build its frames (missing mart, column…)."""
    return pl.DataFrame(
        [
            {
                "check": check,
                "suite": None,
                "expectation": "construction des tables à valider",
                "regle": "§6",
                "gravite": "ERREUR",
                "note": "Le contrôle n'a pas pu être exécuté.",
                "bailleur_siren": None,
                "annee": None,
                "succes": False,
                "nb_lignes_en_echec": 0,
                "exemples": f"contrôle non exécutable : {message}",
                "run_id": run_id,
            }
        ],
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
        global_error=failures.filter(
            pl.col("bailleur_siren").is_null() & (pl.col("gravite") == "ERREUR")
        ).height
        > 0,
    )
