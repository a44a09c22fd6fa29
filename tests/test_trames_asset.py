"""The `trames` Dagster asset on a throw-away workspace."""

from __future__ import annotations

import json

import dagster as dg
import polars as pl
from trames_synthetic import synthetic_marts, write_marts

from dagster_project.defs.automation.partitions import ANNEE_TAG
from dagster_project.defs.reports.definitions import trames


def test_trames_asset_writes_the_campaign_and_skips_unpublished_bailleurs(workspace):
    marts = synthetic_marts(2, seed=3)
    write_marts(marts, workspace.published(2024))
    blocked, published = sorted(set(marts["mart_flux"]["bailleur_siren"]))
    marts["statut_bailleurs"].with_columns(
        pl.when(pl.col("bailleur_siren") == blocked).then(pl.lit(v)).otherwise(pl.col(c)).alias(c)
        for c, v in (("statut", "INCOMPLET"), ("statut_libelle", "incomplet"), ("publie", False),
                     ("feuilles_rejetees", "tours"), ("motif", "fichier tours rejeté"))
    ).write_parquet(workspace.published(2024) / "statut_bailleurs.parquet")

    result = dg.materialize([trames], run_config={"ops": {"trames": {"config": {"workers": 1}}}},
                            tags={ANNEE_TAG: "2024"})

    assert result.success
    metadata = result.asset_materializations_for_node("trames")[0].metadata
    assert metadata["nb_bailleurs_non_publies"].value == 1
    assert metadata["bailleurs_non_publies"].data == {
        f"{blocked}_2024": "incomplet : fichier tours rejeté"}
    manifest = json.loads((workspace.trames / "2024" / "manifest.json").read_text(encoding="utf-8"))
    bailleurs = {e["bailleur_siren"] for e in manifest["files"]}
    assert bailleurs == {published, ""}  # "" = regional reports
    assert metadata["nb_trames"].value == len(manifest["files"]) == metadata["nb_ecrites"].value
    assert all(e["run_id"] == result.run_id for e in manifest["files"])


def test_trames_asset_without_marts_writes_nothing(workspace):
    result = dg.materialize([trames])
    assert result.success
    assert result.asset_materializations_for_node("trames")[0].metadata["nb_trames"].value == 0
