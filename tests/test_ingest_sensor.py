"""landing_sensor and the raw/* assets through Dagster's own test APIs."""

from __future__ import annotations

import json
import os

import dagster as dg
import polars as pl
import pytest

from ingest_samples import ANNEE, SIREN, sheets, write_csv, write_csv_set

from dagster_project.defs.ingest.definitions import (
    INGESTION_JOB_NAME,
    RAW_KEYS,
    bailleurs,
    defs,
    landing_sensor,
    raw_ingestion,
)
from dagster_project.ingest.landing import scan_landing
from dagster_project.ingest.pipeline import discover_partitions, ingest_partitions

KEY = f"{SIREN}_{ANNEE}"


@pytest.fixture
def instance(workspace, monkeypatch):
    monkeypatch.setenv("FLUX_LANDING_SETTLE_SECONDS", "0")
    with dg.DagsterInstance.ephemeral() as instance:  # closed: see campaign.run_campaign
        yield instance


def _tick(instance, cursor=None) -> dg.SensorResult:
    context = dg.build_sensor_context(instance=instance, cursor=cursor, definitions=defs())
    return landing_sensor(context)


def test_new_changed_unchanged_and_removed_files(workspace, instance):
    files = write_csv_set(workspace.landing / SIREN)
    first = _tick(instance)
    assert [r.partition_key for r in first.run_requests] == [KEY]
    assert first.dynamic_partitions_requests[0].partition_keys == [KEY]
    assert len(first.asset_events) == 4 and first.asset_events[0].asset_key == dg.AssetKey(["landing", "fichiers"])
    state = json.loads(first.cursor)
    assert sorted(state) == sorted(f"{SIREN}/{p.name}" for p in files)

    # same run key for the same content: Dagster deduplicates a replayed tick
    assert _tick(instance).run_requests[0].run_key == first.run_requests[0].run_key

    instance.add_dynamic_partitions(bailleurs.name, [KEY])
    unchanged = _tick(instance, first.cursor)
    assert unchanged.run_requests == [] and unchanged.dynamic_partitions_requests == []

    tours = files[1]
    tours.write_text(tours.read_text().replace("2024-06-01", "2024-06-02"))
    os.utime(tours, (1e9, 1.5e9))
    changed = _tick(instance, unchanged.cursor)
    (request,) = changed.run_requests
    assert request.partition_key == KEY and f"{SIREN}/{tours.name}" in request.run_key
    assert changed.dynamic_partitions_requests == []

    touched = files[0]
    os.utime(touched, (1e9, 1.6e9))  # new mtime, same content: re-hashed, nothing to run
    assert _tick(instance, changed.cursor).run_requests == []

    files[3].unlink()
    removed = _tick(instance, changed.cursor)
    assert removed.run_requests == [] and f"{SIREN}/{files[3].name}" not in json.loads(removed.cursor)
    assert files[0].exists()  # nothing else is touched


def test_unidentified_file_is_recorded_by_the_sensor(workspace, instance):
    (workspace.landing / "bilan.xlsx").write_bytes(b"nothing")
    result = _tick(instance)
    assert result.run_requests == []
    registry = pl.read_parquet(workspace.raw_store / "fichiers" / "*.parquet")
    assert registry.select("nom_fichier", "statut", "bailleur_siren").rows() == [("bilan.xlsx", "REJETE", None)]


def test_files_a_campaign_already_loaded_need_no_run(workspace, instance):
    """`make run` (or the yearly campaign) then `make dev`: the sensor's first look, without a
    cursor, must not send every bailleur through the pipeline again."""
    files = write_csv_set(workspace.landing / SIREN)
    ingest_partitions(workspace, discover_partitions(workspace.landing), run_id="campagne")

    first = _tick(instance)
    assert first.run_requests == [] and first.asset_events == []
    assert sorted(json.loads(first.cursor)) == sorted(f"{SIREN}/{p.name}" for p in files)

    corrected = workspace.landing / SIREN / "correction" / files[1].name
    corrected.parent.mkdir()
    corrected.write_text(files[1].read_text().replace("2024-06-01", "2024-06-02"))
    (request,) = _tick(instance, first.cursor).run_requests
    assert request.partition_key == KEY and request.run_key.startswith(f"{KEY}|{SIREN}/correction/")


def test_files_being_written_wait_for_the_next_tick(workspace, instance, monkeypatch):
    monkeypatch.setenv("FLUX_LANDING_SETTLE_SECONDS", "3600")
    write_csv(workspace.landing, "logements", sheets()["logements"])
    result = _tick(instance)
    assert result.run_requests == [] and json.loads(result.cursor) == {}
    scan = scan_landing(workspace.landing, {})
    assert scan.settling == [f"{SIREN}_{ANNEE}_logements.csv"] and scan.changed == []


def test_partitioned_materialization_records_metadata(workspace, instance):
    write_csv_set(workspace.landing)
    (workspace.landing / "130005481_2024_tours.csv").write_text("rien;du;tout\n")
    instance.add_dynamic_partitions(bailleurs.name, [KEY, "130005481_2024"])
    result = dg.materialize([raw_ingestion], partition_key=KEY, instance=instance)
    assert result.success
    events = {e.asset_key: e.materialization for e in result.get_asset_materialization_events()}
    assert set(events) == set(RAW_KEYS.values())
    meta = events[RAW_KEYS["fichiers"]].metadata
    assert meta["nouveaux_fichiers"].value == 4 and meta["rejetes"].value == 0
    assert "accepté" in meta["resume"].value
    assert events[RAW_KEYS["logements"]].metadata["lignes"].value == 3
    # the other bailleur was not part of this run
    registry = pl.read_parquet(workspace.raw_store / "fichiers" / "*.parquet")
    assert registry["bailleur_siren"].unique().to_list() == [SIREN]


def test_each_partition_records_its_own_files_and_hashes(workspace, instance):
    other = "404279457_2024"
    write_csv_set(workspace.landing)
    write_csv(workspace.landing, "tours", sheets()["tours"], siren="404279457")
    instance.add_dynamic_partitions(bailleurs.name, [KEY, other])
    result = dg.materialize([raw_ingestion], instance=instance, tags={
        "dagster/asset_partition_range_start": KEY, "dagster/asset_partition_range_end": other})
    assert result.success
    fichiers = {e.materialization.partition: e.materialization.metadata
                for e in result.get_asset_materialization_events()
                if e.asset_key == RAW_KEYS["fichiers"]}
    assert set(fichiers) == {KEY, other}
    assert fichiers[KEY]["fichiers"].value == 4 and fichiers[other]["fichiers"].value == 1
    assert list(fichiers[other]["sha256"].value) == ["404279457_2024_tours.csv"]
    assert all("404279457" not in chemin for chemin in fichiers[KEY]["sha256"].value)


def test_the_ingestion_job_targets_the_raw_assets():
    job = defs().resolve_job_def(INGESTION_JOB_NAME)
    assert job.partitions_def == bailleurs
    assert {k for k in job.asset_layer.executable_asset_keys} == set(RAW_KEYS.values())
