"""End to end: one bailleur's figures break a §6 rule; its trames are withheld with the reason
in the status, the Dagster UI and the campaign summary, while the others get theirs.

Bailleur 297341513 of the acceptance campaign orients a dwelling of Évry-Courcouronnes (91228)
to the Ville de Meaux, whose only convention covers Meaux: ingestion accepts the file with a
warning, the quality rule §6.2 (ERREUR) blocks that bailleur only. The campaign command runs
in a subprocess, as an operator would run it (the spoilt campaign of conftest.py, shared with
test_ops_publication_scope.py).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from dagster_project.quality.checks import CHECKS_BY_NAME
from tests.conftest import BLOCKED, PUBLISHED


@pytest.fixture
def campaign(campagne_abimee) -> tuple[Path, subprocess.CompletedProcess]:
    p, result = campagne_abimee
    return p.data, result


def test_the_bad_bailleur_is_blocked_with_a_french_reason(campaign) -> None:
    data, _ = campaign
    status = pl.read_parquet(data / "marts" / "2024" / "quality_bailleur_status.parquet")
    assert status.filter(pl.col("bloque"))["bailleur_siren"].to_list() == [BLOCKED]
    resume = status.filter(pl.col("bailleur_siren") == BLOCKED)["resume"][0]
    assert (
        "[§6.2]" in resume
        and "logement_id=L2-00022" in resume
        and f"{BLOCKED}_2024_tours.csv" in resume
    )


def test_the_complete_bailleur_still_gets_its_trames(campaign) -> None:
    data, _ = campaign
    manifest = json.loads(
        (data / "marts" / "trames" / "2024" / "manifest.json").read_text(encoding="utf-8")
    )
    bailleurs = {e["bailleur_siren"] for e in manifest["files"]}
    assert BLOCKED not in bailleurs and PUBLISHED in bailleurs


def test_the_reason_shows_in_the_ui_and_the_campaign_summary(campaign) -> None:
    data, result = campaign
    with dg.DagsterInstance.from_config(str(data / ".dagster")) as instance:
        run_id = instance.get_runs(limit=1)[0].run_id
        records = instance.get_records_for_run(
            run_id=run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION
        ).records
    evaluations = [r.event_log_entry.dagster_event.event_specific_data for r in records]
    ours = {e.check_name: e for e in evaluations if e.check_name in CHECKS_BY_NAME}
    assert set(ours) == set(CHECKS_BY_NAME)
    tours = ours.pop("qualite_fct_tours")
    assert not tours.passed and tours.severity == dg.AssetCheckSeverity.WARN
    assert tours.metadata["bailleurs_bloques"].value == f"{BLOCKED}/2024"
    assert all(e.passed for e in ours.values())
    assert BLOCKED in result.stdout and "[§6.2]" in result.stdout
    summary = (data / "marts" / "campagne_2024_resume.md").read_text(encoding="utf-8")
    assert "[§6.2]" in summary
