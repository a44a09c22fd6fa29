"""End to end: the campaign command on the acceptance campaign, and the yearly schedule."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg
import duckdb
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from dagster_project.atomic import sha256_of
from dagster_project.defs.automation.definitions import (
    campagne_annuelle,
)
from dagster_project.defs.automation.partitions import (
    ANNEE_TAG,
    BAILLEURS_PARTITIONS,
    RANGE_END_TAG,
    RANGE_START_TAG,
)
from dagster_project.marts import PUBLISHED_MODELS
from dagster_project.publish import STATUS_TABLES
from dagster_project.settings import Paths
from tests.campaign_cli import ROOT, cli_env, run_cli
from tests.conftest import ACCEPTANCE

BAILLEURS = ("244244034", "292178738", "297341513")


@pytest.fixture
def campaign(campagne_recette) -> tuple[Paths, subprocess.CompletedProcess]:
    return campagne_recette


def test_campaign_command_succeeds_with_progress_and_french_summary(campaign):
    p, result = campaign
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-5000:]
    out = result.stdout
    for line in ("▶ ingestion des fichiers", "▶ modèles dbt et tests", "▶ publication des marts",
                 "▶ écriture des trames", "# Campagne 2024 : résumé", "bailleurs reçus : **3**",
                 "publiés (trames et consolidations régionales) : **3**",
                 "incomplets (feuille obligatoire absente ou rejetée) : **0**", f"trames : `{p.trames / '2024'}`",
                 f"marts Parquet : `{p.published(2024)}`"):
        assert line in out, line
    for siren in BAILLEURS:
        assert f"bailleur {siren} : " in out and f"| {siren} |" in out
    assert "Running with dbt" not in out  # tool output goes to the log file


def test_campaign_publishes_marts_catalog_trames_and_summary(campaign):
    p, _ = campaign
    for model in PUBLISHED_MODELS:
        assert (p.published(2024) / f"{model}.parquet").is_file(), model
    with duckdb.connect(str(p.catalog), read_only=True) as con:
        bailleurs = con.execute("select distinct bailleur_siren from mart_flux order by 1").fetchall()
        assert [b for (b,) in bailleurs] == list(BAILLEURS)
        assert con.execute("select count(*) from fichiers").fetchone()[0] == 9
    assert list(p.trames.rglob("*.xlsx"))
    summary = (p.marts / "campagne_2024_resume.md").read_text(encoding="utf-8")
    assert "publiés (trames et consolidations régionales) : **3**" in summary


def test_campaign_run_is_recorded_in_the_persistent_instance(campaign):
    p, _ = campaign
    with dg.DagsterInstance.from_config(str(p.data / ".dagster")) as instance:
        run = instance.get_run_records()[-1].dagster_run  # the fixture's run (oldest)
        assert run.job_name == "campagne" and run.status == dg.DagsterRunStatus.SUCCESS
        assert run.tags[ANNEE_TAG] == "2024"
        assert sorted(instance.get_dynamic_partitions(BAILLEURS_PARTITIONS)) == [
            f"{s}_2024" for s in BAILLEURS]
        (published,) = [
            e for e in instance.all_logs(run.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION)
            if e.dagster_event.asset_key == dg.AssetKey("published_marts")
        ]
        metadata = published.asset_materialization.metadata
        assert metadata["run_id"].value == run.run_id
        assert metadata["nb_fichiers_sources"].value == 9
        assert len(metadata["empreinte_sources"].value) == 64


def test_yearly_schedule_runs_the_previous_year_over_all_its_bailleurs(acceptance_landing):
    # The contexts are closed: the instance one opens would stay the process's current one.
    with dg.instance_for_test() as instance, dg.build_schedule_context(
        instance=instance,
        scheduled_execution_time=datetime(2025, 3, 5, 6, tzinfo=ZoneInfo("Europe/Paris")),
    ) as context:
        request = campagne_annuelle(context)
        keys = instance.get_dynamic_partitions(BAILLEURS_PARTITIONS)
    assert isinstance(request, dg.RunRequest)
    assert sorted(keys) == [f"{s}_2024" for s in BAILLEURS]
    assert request.tags[ANNEE_TAG] == "2024"
    assert (request.tags[RANGE_START_TAG], request.tags[RANGE_END_TAG]) == (keys[0], keys[-1])


def test_yearly_schedule_skips_a_year_without_files(acceptance_landing):
    with dg.instance_for_test() as instance, dg.build_schedule_context(
        instance=instance, scheduled_execution_time=datetime(2027, 3, 5, 6)
    ) as context:
        assert isinstance(campagne_annuelle(context), dg.SkipReason)


def test_a_second_run_is_idempotent(campaign):
    """Rerunning changes nothing: every published Parquet mart keeps its very bytes."""
    p, first = campaign
    assert first.returncode == 0
    published = [*PUBLISHED_MODELS, *STATUS_TABLES]
    bytes_before = {m: sha256_of(p.published(2024) / f"{m}.parquet") for m in published}
    marts_before = {m: pl.read_parquet(p.published(2024) / f"{m}.parquet") for m in PUBLISHED_MODELS}
    trames_before = {t: t.stat().st_mtime_ns for t in p.trames.rglob("*.xlsx")}

    again = run_cli(p.data, "--landing", str(p.landing))

    assert again.returncode == 0, again.stdout[-5000:] + again.stderr[-5000:]
    assert "trames écrites ou réécrites par cette exécution : **0**" in again.stdout
    for model, before in marts_before.items():
        after = pl.read_parquet(p.published(2024) / f"{model}.parquet")
        assert_frame_equal(after, before, check_row_order=False)
    assert {m: sha256_of(p.published(2024) / f"{m}.parquet") for m in published} == bytes_before
    assert {t: t.stat().st_mtime_ns for t in p.trames.rglob("*.xlsx")} == trames_before
    with duckdb.connect(str(p.catalog), read_only=True) as con:
        assert con.execute("select count(*) from fichiers").fetchone()[0] == 9


def start_cli(data: Path, landing: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "dagster_project.campaign", "run", "--landing", str(landing)],
        cwd=ROOT, env=cli_env(data), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def read_until(proc: subprocess.Popen, marker: str) -> str:
    seen = []
    for line in proc.stdout:
        seen.append(line)
        if marker in line:
            return "".join(seen)
    raise AssertionError(f"« {marker} » jamais affiché :\n{''.join(seen)[-3000:]}")


def killed_during(data: Path, landing: Path, stage: str) -> str:
    """Start a campaign, kill -9 it once ``stage`` has started; its output until then."""
    proc = start_cli(data, landing)
    try:
        out = read_until(proc, f"▶ {stage}")
    finally:
        proc.kill()
        proc.wait(timeout=60)
    return out


def trames_fingerprints(p: Paths) -> dict[str, str]:
    manifest = json.loads((p.trames / "2024" / "manifest.json").read_text(encoding="utf-8"))
    return {e["file"]: e["fingerprint"] for e in manifest["files"]}


def stopped_by_sigterm(proc: subprocess.Popen) -> str:
    proc.terminate()
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 130, out
    assert "Arrêt demandé (Ctrl-C ou SIGTERM)" in out and "Campagne interrompue à la demande" in out
    assert "Traceback" not in out
    return out


def test_a_second_command_is_refused_and_an_interrupted_campaign_recovers_alone(campaign, tmp_path):
    """A second command is refused while the first runs; SIGTERM in the dbt stage stops that
    run cleanly; kill -9 in the trames stage leaves a dead run behind. The next command marks
    the dead run failed, frees its slots, and ends with the same marts and trames as a clean run."""
    clean, _ = campaign
    data = tmp_path / "data"
    landing = tmp_path / "depot"
    shutil.copytree(ACCEPTANCE / "landing", landing)

    proc = start_cli(data, landing)
    try:
        read_until(proc, "▶ modèles dbt et tests")
        second = run_cli(data, "--landing", str(landing))
        assert second.returncode == 2, second.stdout[-3000:] + second.stderr[-3000:]
        assert "REFUSÉ : Une campagne est déjà en cours sur ce dossier de données" in second.stdout
        assert f"processus {proc.pid}" in second.stdout
        stopped_by_sigterm(proc)
    finally:
        proc.kill()
        proc.wait(timeout=60)
    with dg.DagsterInstance.from_config(str(data / ".dagster")) as instance:
        (run,) = [r.dagster_run for r in instance.get_run_records()]
        assert run.is_finished
        assert not instance.event_log_storage.get_concurrency_info("duckdb_writer").claimed_slots

    killed_during(data, landing, "écriture des trames")
    final = run_cli(data, "--landing", str(landing))
    assert final.returncode == 0, final.stdout[-5000:] + final.stderr[-5000:]
    assert "Reprise après incident : exécution" in final.stdout
    assert "marquée en échec" in final.stdout

    p = Paths(data=data.resolve(), landing=landing.resolve())
    for mart in (*PUBLISHED_MODELS, *STATUS_TABLES):
        assert sha256_of(p.published(2024) / f"{mart}.parquet") == sha256_of(clean.published(2024) / f"{mart}.parquet"), mart
    assert trames_fingerprints(p) == trames_fingerprints(clean)
    on_disk = {f.relative_to(p.trames / "2024").as_posix() for f in p.trames.rglob("*.xlsx")}
    assert on_disk == set(trames_fingerprints(p))
    assert not list(p.marts.rglob(".*.tmp"))
    with dg.DagsterInstance.from_config(str(data / ".dagster")) as instance:
        statuses = [r.dagster_run.status for r in instance.get_run_records()]
        assert statuses[0] == dg.DagsterRunStatus.SUCCESS  # newest first
        assert dg.DagsterRunStatus.FAILURE in statuses[1:]
        assert not instance.event_log_storage.get_concurrency_info("duckdb_writer").claimed_slots
