"""End to end: one bailleur's figures break a §6 rule; its trames are withheld with the reason
in the status, the Dagster UI and the campaign summary, while the others get theirs.

Bailleur 297341513 of the acceptance campaign orients a dwelling of Évry-Courcouronnes (91228)
to the Ville de Meaux, whose only convention covers Meaux: ingestion accepts the file with a
warning, the quality rule §6.2 (ERREUR) blocks that bailleur only. The campaign command runs
in a subprocess, as an operator would run it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from dagster_project.quality.checks import CHECKS_BY_NAME

ROOT = Path(__file__).resolve().parent.parent
ACCEPTANCE = ROOT / "tests" / "fixtures" / "acceptance-2024"
BAD, GOOD = "297341513", ("244244034", "292178738")
TOUR, MISDIRECTED = "L2-00022,1,2024-08-21,CD91,", "L2-00022,1,2024-08-21,VILLE77284,"


@pytest.fixture(scope="module")
def campaign(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess]:
    data = tmp_path_factory.mktemp("quality-blocking") / "data"
    landing = data.parent / "depot"
    shutil.copytree(ACCEPTANCE / "landing", landing)
    tours = landing / BAD / f"{BAD}_2024_tours.csv"
    text = tours.read_text(encoding="utf-8-sig")
    assert TOUR in text
    tours.write_text(text.replace(TOUR, MISDIRECTED), encoding="utf-8")
    env = {**os.environ, "FLUX_DATA_DIR": str(data), "FLUX_LANDING_SETTLE_SECONDS": "0"}
    env.pop("DAGSTER_HOME", None)
    env.pop("FLUX_LANDING_DIR", None)
    result = subprocess.run(
        [sys.executable, "-m", "dagster_project.campaign", "run", "--landing", str(landing)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-5000:]
    return data, result


def test_the_bad_bailleur_is_blocked_with_a_french_reason(campaign) -> None:
    data, _ = campaign
    status = pl.read_parquet(data / "marts" / "2024" / "quality_bailleur_status.parquet")
    assert status.filter(pl.col("bloque"))["bailleur_siren"].to_list() == [BAD]
    resume = status.filter(pl.col("bailleur_siren") == BAD)["resume"][0]
    assert (
        "[§6.2]" in resume
        and "logement_id=L2-00022" in resume
        and f"{BAD}_2024_tours.csv" in resume
    )


def test_the_other_bailleurs_still_get_their_trames(campaign) -> None:
    data, _ = campaign
    manifest = json.loads(
        (data / "marts" / "trames" / "2024" / "manifest.json").read_text(encoding="utf-8")
    )
    bailleurs = {e["bailleur_siren"] for e in manifest["files"]}
    assert BAD not in bailleurs and set(GOOD) <= bailleurs


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
    assert tours.metadata["bailleurs_bloques"].value == f"{BAD}/2024"
    assert all(e.passed for e in ours.values())
    assert BAD in result.stdout and "[§6.2]" in result.stdout
    summary = (data / "marts" / "campagne_2024_resume.md").read_text(encoding="utf-8")
    assert "[§6.2]" in summary
