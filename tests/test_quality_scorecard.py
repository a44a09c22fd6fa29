"""Scorecard and per-bailleur status: who is blocked, and a French summary that says why,
how many rows and which file; and the Dagster checks + scorecard asset on a warehouse."""

from __future__ import annotations

import duckdb
import dagster as dg
import polars as pl

from dagster_project.defs.quality.definitions import defs, quality_scorecard
from dagster_project.quality.checks import CHECKS_BY_NAME, run_check
from dagster_project.quality.outcomes import failure_row
from dagster_project.quality.scorecard import bailleur_status, scorecard
from test_quality_campaign import A, ANNEE, B, good_marts
from test_quality_suites import _edit

SOURCES = pl.DataFrame(
    {
        "bailleur_siren": [A, A, B, B],
        "annee": [ANNEE] * 4,
        "feuille": ["tours", "conventions", "tours", "conventions"],
        "_source_file": [
            f"{A}_2024.xlsx",
            f"{A}_2024.xlsx",
            f"{B}_2024_tours.csv",
            f"{B}_2024_conventions.csv",
        ],
    }
)


def _outcomes() -> pl.DataFrame:
    """B: a hors-flux tour without catégorie (ERREUR); A: State rate above 30 % (AVERTISSEMENT)."""
    tours = _edit("fct_tours", pl.col("logement_id") == "L3", categorie_operation=None)(
        good_marts()
    )
    rates = good_marts()
    rates["mart_flux_perimetre"] = rates["mart_flux_perimetre"].with_columns(
        pl.when((pl.col("bailleur_siren") == A) & (pl.col("reservataire_code") == "PREF"))
        .then(35.0)
        .otherwise(pl.col("taux_flux"))
        .alias("taux_flux")
    )
    return pl.concat(
        [
            run_check(CHECKS_BY_NAME["qualite_fct_tours"], lambda: tours, "r1"),
            run_check(CHECKS_BY_NAME["qualite_mart_flux_perimetre"], lambda: rates, "r1"),
        ]
    )


def test_status_blocks_only_the_bailleur_with_an_error_and_says_why() -> None:
    card = scorecard(_outcomes(), SOURCES)
    status = {r["bailleur_siren"]: r for r in bailleur_status(card, SOURCES).to_dicts()}
    assert status[B]["bloque"] and not status[A]["bloque"]
    assert (status[B]["nb_erreurs"], status[A]["nb_avertissements"]) == (1, 1)
    resume = status[B]["resume"]
    assert resume.startswith("Trames bloquées — 1 contrôle en erreur")
    assert "[§6.5] Un tour hors flux doit indiquer sa catégorie d'opération" in resume
    assert "1 ligne en échec" in resume and "logement_id=L3" in resume and "ligne=5" in resume
    assert f"fichier(s) : {B}_2024_tours.csv" in resume
    assert "30 %" in status[A]["resume"] and f"{A}_2024.xlsx" in status[A]["resume"]
    assert status[A]["resume"].startswith("Aucune anomalie bloquante")
    # the scorecard names files only on failures
    assert (
        card.filter(pl.col("succes"))["fichiers"].null_count()
        == card.filter(pl.col("succes")).height
    )


def test_a_failure_concerning_everyone_blocks_every_bailleur() -> None:
    outcomes = pl.concat([_outcomes(), failure_row("donnees_personnelles", "table absente", "r1")])
    status = bailleur_status(scorecard(outcomes, SOURCES), SOURCES)
    assert status["bloque"].all()
    assert all("contrôle général en erreur" in r for r in status["resume"])


def _warehouse(path, marts: dict[str, pl.DataFrame]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(path)) as con:
        for name, frame in marts.items():
            if not name.startswith("_"):
                con.register("frame", frame.to_arrow())
                con.execute(f"create table main.{name} as select * from frame")
                con.unregister("frame")
        con.register("frame", SOURCES.to_arrow())
        con.execute("create table main.mart_sources as select * from frame")


def test_checks_and_scorecard_in_dagster(workspace) -> None:
    marts = _edit("mart_bilan_ventilation", pl.col("dimension") == "typologie", valeur="T9")(
        good_marts()
    )
    _warehouse(workspace.warehouse, marts)
    checks = {list(c.check_keys)[0].name: c for c in defs().asset_checks}
    results = {name: check(dg.build_asset_check_context()) for name, check in checks.items()}
    assert [name for name, r in results.items() if not r.passed] == [
        "qualite_mart_bilan_ventilation"
    ]
    ventilation = results["qualite_mart_bilan_ventilation"]
    assert not ventilation.passed and ventilation.severity == dg.AssetCheckSeverity.WARN
    assert ventilation.metadata["bailleurs_bloques"].value == f"{B}/{ANNEE}"
    echecs = ventilation.metadata["echecs"].value.records
    assert [(r.data["regle"], r.data["bailleur_siren"]) for r in echecs] == [("§6.7", B)]
    assert (workspace.quality / "qualite_mart_bilan_ventilation.parquet").exists()

    result = dg.materialize(
        [quality_scorecard, *(dg.AssetSpec(k) for k in quality_scorecard.dependency_keys)]
    )
    status = pl.read_parquet(workspace.scorecard / "quality_bailleur_status.parquet")
    assert status.filter(pl.col("bloque"))["bailleur_siren"].to_list() == [B]
    assert "T9" in status.filter(pl.col("bloque"))["resume"][0]
    assert pl.read_parquet(workspace.scorecard / "quality_scorecard.parquet").height > 0
    metadata = result.asset_materializations_for_node("quality_scorecard")[0].metadata
    assert "**bloqué**" in metadata["statut_par_bailleur"].value


def test_a_check_that_never_ran_blocks_everyone(workspace) -> None:
    _warehouse(workspace.warehouse, good_marts())
    dg.materialize(
        [quality_scorecard, *(dg.AssetSpec(k) for k in quality_scorecard.dependency_keys)]
    )
    status = pl.read_parquet(workspace.scorecard / "quality_bailleur_status.parquet")
    assert status["bloque"].all() and "jamais été exécuté" in status["resume"][0]


def test_personal_data_column_is_a_dagster_error(workspace) -> None:
    marts = good_marts()
    marts["mart_recipients"] = marts["mart_recipients"].with_columns(
        pl.lit("Dupont").alias("nom_locataire")
    )
    _warehouse(workspace.warehouse, marts)
    check = next(
        c for c in defs().asset_checks if list(c.check_keys)[0].name == "donnees_personnelles"
    )
    result = check(dg.build_asset_check_context())
    assert not result.passed and result.severity == dg.AssetCheckSeverity.ERROR
