"""Campaign summary (French) and the partition helpers of the campaign run."""

from __future__ import annotations

import dagster as dg
import polars as pl
import pytest

from dagster_project.defs.automation.partitions import (
    ANNEE_TAG,
    BAILLEURS_PARTITIONS,
    RANGE_END_TAG,
    RANGE_START_TAG,
    campaign_tags,
    keys_of_year,
    partition_annee,
    register_partitions,
)
from dagster_project.ingest.store import FICHIERS_SCHEMA
from dagster_project.status import Status, bailleur_status, sheet_versions, write
from dagster_project.summary import (
    CampaignSummary,
    FailedCheck,
    bailleur_lines,
    collect,
    render_markdown,
    write_summary,
)
from tests.test_ops_status import ALL, D2, fichier


def test_partition_keys_carry_the_year():
    assert partition_annee("552046484_2024") == 2024
    assert partition_annee("nimporte") is None
    assert keys_of_year(["b_2024", "a_2023", "a_2024"], 2024) == ["b_2024", "a_2024"]


def test_one_run_covers_the_year_from_first_to_last_key():
    assert campaign_tags(["a_2023", "b_2024", "a_2024", "a_2025"], 2024) == {
        ANNEE_TAG: "2024", RANGE_START_TAG: "b_2024", RANGE_END_TAG: "a_2024"}
    assert campaign_tags([], 2024) == {ANNEE_TAG: "2024"}
    with pytest.raises(ValueError, match="a_2025"):
        campaign_tags(["b_2024", "a_2025", "a_2024"], 2024)


def test_each_years_partitions_stay_adjacent_when_a_late_bailleur_registers(tmp_path):
    """A run selects a range of partitions: a 2024 bailleur registered after the 2025 ones
    moves the 2025 keys after it, so a run of 2024 never ingests 2025 (and the reverse);
    the moved keys keep their history."""
    with dg.instance_for_test(temp_dir=str(tmp_path)) as instance:
        assert register_partitions(instance, ["a_2024", "b_2024", "a_2025"]) == [
            "a_2024", "b_2024", "a_2025"]
        instance.report_runless_asset_event(dg.AssetMaterialization(
            dg.AssetKey(["raw", "fichiers"]), partition="a_2025"))
        order = register_partitions(instance, ["c_2024", "a_2025"])
        assert order == ["a_2024", "b_2024", "c_2024", "a_2025"]
        assert instance.get_dynamic_partitions(BAILLEURS_PARTITIONS) == order
        assert campaign_tags(order, 2024)[RANGE_END_TAG] == "c_2024"
        assert instance.get_materialized_partitions(dg.AssetKey(["raw", "fichiers"])) == {"a_2025"}


def fichiers() -> pl.DataFrame:
    rows = [
        fichier("111111111", "a/classeur.xlsx", ALL),
        fichier("222222222", "b/tours.csv", ["tours"], statut="REJETE", depose_le=D2),
        fichier("222222222", "b/autres.xlsx", ["logements", "conventions"]),
        fichier("333333333", "c/classeur.xlsx", ALL, annee=2023),
    ]
    return pl.DataFrame(rows, schema=FICHIERS_SCHEMA)


def test_summary_is_written_in_french_with_the_status_of_every_bailleur(workspace):
    (workspace.raw_store / "fichiers").mkdir(parents=True)
    fichiers().write_parquet(workspace.raw_store / "fichiers" / "f.parquet")
    for annee in ("2023", "2024"):  # the summary of 2024 counts 2024's trames only
        (workspace.trames / annee / "ETAT").mkdir(parents=True)
        (workspace.trames / annee / "ETAT" / "a.xlsx").write_bytes(b"x")
    summary = collect(workspace, run_id="abc123", annee=None, run_started=None,
                      failed_checks=[FailedCheck("mart_flux", "flux_net_positif", "ERREUR")])
    assert isinstance(summary, CampaignSummary) and summary.annee == 2024
    text = render_markdown(summary)
    for expected in ("# Campagne 2024 : résumé", "bailleurs reçus : **2**",
                     "incomplets (feuille obligatoire absente ou rejetée) : **1**",
                     "complets, contrôles non exécutés : **1**",
                     "| 222222222 | 2024 | 2 | incomplet | feuille(s) obligatoire(s) rejetée(s)",
                     "| 222222222 | tours | b/tours.csv | rejeté |",
                     "contrôles en échec : **1** (gravité erreur : 1, avertissement : 0)",
                     "[ERREUR] mart_flux : flux_net_positif", "**1** (au total : 1)",
                     str(workspace.trames / "2024"), str(workspace.published(2024)), "`abc123`"):
        assert expected in text
    target = write_summary(summary)
    assert target == workspace.marts / "campagne_2024_resume.md"
    assert target.read_text(encoding="utf-8") == text
    assert bailleur_lines(workspace, 2024) == [
        "    bailleur 111111111 : 1 fichier(s), complet",
        "    bailleur 222222222 : 2 fichier(s), incomplet : tours rejetée",
    ]


def test_summary_shows_the_status_the_run_wrote(workspace):
    (workspace.raw_store / "fichiers").mkdir(parents=True)
    fichiers().write_parquet(workspace.raw_store / "fichiers" / "f.parquet")
    quality = pl.DataFrame({"bailleur_siren": ["111111111"], "annee": [2024], "bloque": [True],
                            "resume": ["Trames bloquées — [§6.4] rang de tour."]})
    written = Status(bailleur_status(fichiers(), quality), sheet_versions(fichiers()))
    write(workspace.status, written)
    text = render_markdown(collect(workspace, run_id="r", annee=2024, run_started=None,
                                   failed_checks=[]))
    assert "bloqués par les contrôles qualité : **1**" in text
    assert "| 111111111 | 2024 | 1 | bloqué | Trames bloquées — [§6.4] rang de tour. |" in text


def test_summary_of_a_failed_run_says_so(workspace):
    summary = collect(workspace, run_id="r", annee=2024, run_started=None, failed_checks=[],
                      failed_steps=("flux_dbt",))
    text = render_markdown(summary)
    assert "**L'exécution a échoué** (étapes : flux_dbt)" in text
    assert "bailleurs reçus : **0**" in text
