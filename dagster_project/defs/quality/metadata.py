"""What the Dagster UI shows for the quality checks and the scorecard (French)."""

from __future__ import annotations

import dagster as dg
import polars as pl

from dagster_project.quality.outcomes import CheckSummary

_FAILURE_COLUMNS = {
    "regle": "string",
    "gravite": "string",
    "suite": "string",
    "expectation": "string",
    "bailleur_siren": "string",
    "annee": "int",
    "nb_lignes_en_echec": "int",
    "exemples": "string",
}
MAX_TABLE_ROWS = 200


def _failure_table(failures: pl.DataFrame) -> dg.TableMetadataValue:
    records = [
        dg.TableRecord(row)
        for row in failures.select(list(_FAILURE_COLUMNS)).head(MAX_TABLE_ROWS).to_dicts()
    ]
    schema = dg.TableSchema(
        columns=[dg.TableColumn(name, kind) for name, kind in _FAILURE_COLUMNS.items()]
    )
    return dg.MetadataValue.table(records=records, schema=schema)


def check_metadata(outcomes: pl.DataFrame, summary: CheckSummary) -> dict[str, dg.MetadataValue]:
    failures = outcomes.filter(~pl.col("succes")).sort(
        "gravite", "regle", "bailleur_siren", nulls_last=True
    )
    return {
        "evaluees": dg.MetadataValue.int(summary.evaluated),
        "en_echec": dg.MetadataValue.int(summary.failed),
        "bailleurs_bloques": dg.MetadataValue.text(", ".join(summary.bailleurs_bloques) or "aucun"),
        "bailleurs_avertis": dg.MetadataValue.text(", ".join(summary.bailleurs_avertis) or "aucun"),
        "echecs": _failure_table(failures),
    }


def _markdown(status: pl.DataFrame) -> str:
    lines = [
        "| Bailleur | Année | Statut | Erreurs | Avertissements | Résumé |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for row in status.sort("bloque", "bailleur_siren", descending=[True, False]).iter_rows(
        named=True
    ):
        statut = "**bloqué**" if row["bloque"] else "transmissible"
        resume = row["resume"].replace("|", "/")
        lines.append(
            f"| {row['bailleur_siren']} | {row['annee']} | {statut} | {row['nb_erreurs']} "
            f"| {row['nb_avertissements']} | {resume} |"
        )
    return "\n".join(lines)


def scorecard_metadata(
    card: pl.DataFrame, status: pl.DataFrame, missing: list[str], run_id: str
) -> dict[str, dg.MetadataValue]:
    other_runs = sorted(set(card["run_id"].drop_nulls()) - {run_id})
    return {
        "bailleurs": dg.MetadataValue.int(status.height),
        "bailleurs_bloques": dg.MetadataValue.int(int(status["bloque"].sum())),
        "statut_par_bailleur": dg.MetadataValue.md(_markdown(status)),
        "controles_non_executes": dg.MetadataValue.text(", ".join(missing) or "aucun"),
        "resultats_d_autres_runs": dg.MetadataValue.text(", ".join(other_runs) or "aucun"),
    }
