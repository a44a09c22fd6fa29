"""Campaign summary (French) and the partition helpers of the campaign run."""

from __future__ import annotations

from datetime import datetime

import polars as pl

from dagster_project.defs.automation.partitions import (
    ANNEE_TAG,
    RANGE_END_TAG,
    RANGE_START_TAG,
    campaign_tags,
    keys_of_year,
    partition_annee,
)
from dagster_project.summary import (
    CampaignSummary,
    FailedCheck,
    bailleur_statuses,
    collect,
    outstanding_rejections,
    render_markdown,
    write_summary,
)

D1, D2 = datetime(2025, 2, 1), datetime(2025, 2, 10)


def test_partition_keys_carry_the_year():
    assert partition_annee("552046484_2024") == 2024
    assert partition_annee("nimporte") is None
    assert keys_of_year(["b_2024", "a_2023", "a_2024"], 2024) == ["b_2024", "a_2024"]


def test_one_run_covers_the_year_from_first_to_last_key():
    assert campaign_tags(["b_2024", "a_2024"], 2024) == {
        ANNEE_TAG: "2024", RANGE_START_TAG: "b_2024", RANGE_END_TAG: "a_2024"}
    assert campaign_tags([], 2024) == {ANNEE_TAG: "2024"}


def test_a_later_accepted_file_of_the_same_sheet_replaces_a_rejection():
    rejected = {"statut": "REJETE", "depose_le": D1, "feuilles": ["tours"]}
    assert outstanding_rejections([rejected]) == 1
    assert outstanding_rejections(
        [rejected, {"statut": "ACCEPTE", "depose_le": D2, "feuilles": ["tours"]}]) == 0
    # another sheet, or an older accepted file, does not replace it
    assert outstanding_rejections(
        [rejected, {"statut": "ACCEPTE", "depose_le": D2, "feuilles": ["logements"]}]) == 1
    assert outstanding_rejections(
        [{**rejected, "depose_le": D2}, {"statut": "ACCEPTE", "depose_le": D1,
                                          "feuilles": ["tours"]}]) == 1
    # an unreadable file (no sheet known) is replaced by any later accepted file
    assert outstanding_rejections(
        [{**rejected, "feuilles": []}, {"statut": "ACCEPTE_AVEC_AVERTISSEMENTS",
                                        "depose_le": D2, "feuilles": ["tours"]}]) == 0


def fichiers() -> pl.DataFrame:
    return pl.DataFrame({
        "bailleur_siren": ["111111111", "222222222", "222222222", "333333333"],
        "annee": [2024, 2024, 2024, 2023],
        "statut": ["ACCEPTE", "REJETE", "ACCEPTE", "ACCEPTE"],
        "depose_le": [D1, D2, D1, D1],
        "feuilles": [["tours"], ["tours"], ["tours"], ["tours"]],
    })


def test_bailleur_statuses_of_one_year_with_quality_blocks():
    status = pl.DataFrame({"bailleur_siren": ["111111111"], "annee": [2024], "bloque": [True],
                           "resume": ["taux État > 30 %"]})
    rows = bailleur_statuses(fichiers(), status, 2024)
    assert [(b.bailleur_siren, b.accepte, b.bloque) for b in rows] == [
        ("111111111", True, True), ("222222222", False, False)]
    assert rows[0].resume_qualite == "taux État > 30 %"
    assert bailleur_statuses(None, None, 2024) == []


def test_summary_is_written_in_french_with_counts_and_paths(workspace):
    (workspace.raw_store / "fichiers").mkdir(parents=True)
    fichiers().write_parquet(workspace.raw_store / "fichiers" / "f.parquet")
    (workspace.trames / "ETAT").mkdir(parents=True)
    (workspace.trames / "ETAT" / "a.xlsx").write_bytes(b"x")
    summary = collect(workspace, run_id="abc123", annee=None, run_started=None,
                      failed_checks=[FailedCheck("mart_flux", "flux_net_positif", "ERREUR")])
    assert isinstance(summary, CampaignSummary) and summary.annee == 2024
    text = render_markdown(summary)
    for expected in ("# Campagne 2024 : résumé", "bailleurs reçus : **2**",
                     "bailleurs acceptés : **1**",
                     "bailleurs rejetés (au moins un fichier à redéposer) : **1**", "contrôles en échec : **1** (gravité erreur : 1, avertissement : 0)",
                     "[ERREUR] mart_flux : flux_net_positif", "**1** (au total : 1)",
                     str(workspace.trames), "`abc123`"):
        assert expected in text
    target = write_summary(summary)
    assert target == workspace.marts / "campagne_2024_resume.md"
    assert target.read_text(encoding="utf-8") == text


def test_summary_of_a_failed_run_says_so(workspace):
    summary = collect(workspace, run_id="r", annee=2024, run_started=None, failed_checks=[],
                      failed_steps=("flux_dbt",))
    text = render_markdown(summary)
    assert "**L'exécution a échoué** (étapes : flux_dbt)" in text
    assert "bailleurs reçus : **0**" in text
