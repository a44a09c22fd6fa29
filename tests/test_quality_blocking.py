"""End to end: one bailleur's figures break a §6 rule; its trames are withheld with the reason
in the status, the UI metadata and the campaign summary, while the others get theirs.

Bailleur 297341513 of the acceptance campaign orients a dwelling of Évry-Courcouronnes (91228)
to the Ville de Meaux, whose only convention covers Meaux: ingestion accepts the file with a
warning, the quality rule §6.2 (ERREUR) blocks the bailleur.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from dagster_project.settings import Paths

ACCEPTANCE = Path(__file__).parent / "fixtures" / "acceptance-2024"
BAD, GOOD = "297341513", ("244244034", "292178738")
TOURS = Path(BAD) / f"{BAD}_2024_tours.csv"


@pytest.fixture(scope="module")
def campaign(tmp_path_factory: pytest.TempPathFactory) -> tuple[Paths, dg.DagsterInstance]:
    from dagster_project.campaign import run_campaign
    from dagster_project.settings import paths

    root = tmp_path_factory.mktemp("quality-blocking")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("FLUX_DATA_DIR", str(root / "data"))
        mp.setenv("FLUX_LANDING_DIR", str(root / "data" / "raw"))
        mp.setenv("DAGSTER_HOME", str(root / "dagster"))
        (root / "dagster").mkdir()
        p = paths()
        shutil.copytree(ACCEPTANCE / "landing", p.landing)
        tours = p.landing / TOURS
        text = tours.read_text(encoding="utf-8-sig")
        assert "L2-00022,1,2024-08-21,CD91," in text
        tours.write_text(text.replace("L2-00022,1,2024-08-21,CD91,", "L2-00022,1,2024-08-21,VILLE77284,"), encoding="utf-8")
        assert run_campaign(2024) == 0
        instance = dg.DagsterInstance.get()
    return p, instance


def test_the_bad_bailleur_is_blocked_with_a_french_reason(campaign) -> None:
    p, _ = campaign
    status = pl.read_parquet(p.marts / "quality_bailleur_status.parquet")
    assert status.filter(pl.col("bloque"))["bailleur_siren"].to_list() == [BAD]
    resume = status.filter(pl.col("bailleur_siren") == BAD)["resume"][0]
    assert "[§6.2]" in resume and "logement_id=L2-00022" in resume and f"{BAD}_2024_tours.csv" in resume


def test_the_other_bailleurs_still_get_their_trames(campaign) -> None:
    p, _ = campaign
    manifest = json.loads((p.trames / "2024" / "manifest.json").read_text(encoding="utf-8"))
    bailleurs = {e["bailleur_siren"] for e in manifest["files"]}
    assert BAD not in bailleurs and set(GOOD) <= bailleurs


def test_the_reason_shows_in_the_ui_and_the_campaign_summary(campaign) -> None:
    p, instance = campaign
    records = instance.get_records_for_run(
        run_id=instance.get_runs(limit=1)[0].run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION
    ).records
    evaluations = {r.event_log_entry.dagster_event.event_specific_data.check_name:
                   r.event_log_entry.dagster_event.event_specific_data for r in records}
    tours = evaluations["qualite_fct_tours"]
    assert not tours.passed and tours.severity == dg.AssetCheckSeverity.WARN
    assert tours.metadata["bailleurs_bloques"].value == f"{BAD}/2024"
    assert all(e.passed for name, e in evaluations.items() if name.startswith("qualite_") and name != "qualite_fct_tours")
    summary = (p.marts / "campagne_2024_resume.md").read_text(encoding="utf-8")
    assert BAD in summary and "[§6.2]" in summary
