"""Publication of the marts: Parquet files and catalog swapped atomically, snapshots kept."""

from __future__ import annotations

from datetime import UTC, timedelta
from pathlib import Path

import duckdb
import polars as pl
import pytest

from dagster_project.publish import (
    RETENTION_ENV,
    PUBLICATIONS_DIR,
    prune_publications,
    version_time,
    is_published_mart,
    publication_version,
    publish,
)


def write_warehouse(path: Path, nb_bailleurs: int) -> None:
    """A warehouse with two marts, one non-published model, ``nb_bailleurs`` rows each."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(path)) as con:
        for table in ("mart_flux", "fct_tours", "stg_tours"):
            con.execute(f"create or replace table {table} as "
                        f"select lpad(i::varchar, 9, '0') as bailleur_siren, 2024 as annee "
                        f"from range({nb_bailleurs}) t(i)")


def count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    return con.execute(f"select count(*) from {table}").fetchone()[0]


@pytest.fixture
def dirs(tmp_path: Path) -> dict[str, Path]:
    marts = tmp_path / "marts"
    marts.mkdir()
    return {"warehouse": tmp_path / "warehouse" / "flux.duckdb", "marts": marts,
            "catalog": marts / "catalog.duckdb"}


def test_only_marts_and_fct_tours_are_published():
    assert is_published_mart("mart_bilan_reservataire")
    assert is_published_mart("fct_tours")
    assert not is_published_mart("stg_tours")
    assert not is_published_mart("int_mart_x") and not is_published_mart("dim_communes")


def test_versions_sort_in_time_order():
    from datetime import datetime

    early = publication_version("zzzz", datetime(2025, 3, 5, 6, 0, tzinfo=UTC))
    late = publication_version("aaaa", datetime(2025, 3, 5, 6, 1, tzinfo=UTC))
    assert early < late and early.endswith("_zzzz")


def test_publish_writes_parquet_marts_and_a_catalog_of_views(dirs):
    write_warehouse(dirs["warehouse"], 3)
    pub = publish(dirs["warehouse"], dirs["marts"], dirs["catalog"], run_id="run-1")

    assert pub.row_counts == {"fct_tours": 3, "mart_flux": 3}
    assert sorted(p.name for p in dirs["marts"].glob("*.parquet")) == [
        "fct_tours.parquet", "mart_flux.parquet"]
    assert pl.read_parquet(dirs["marts"] / "mart_flux.parquet").height == 3
    with duckdb.connect(str(dirs["catalog"]), read_only=True) as con:
        assert count(con, "mart_flux") == 3
        views = {r[0] for r in con.execute(
            "select view_name from duckdb_views() where not internal").fetchall()}
        assert views == {"mart_flux", "fct_tours"}
        assert count(con, "_publication") == 2
    assert not list(dirs["marts"].glob(".*.tmp"))


def test_quality_and_raw_file_log_go_into_the_catalog(dirs, tmp_path):
    write_warehouse(dirs["warehouse"], 2)
    quality = tmp_path / "quality"
    quality.mkdir()
    pl.DataFrame({"check": ["a"], "nb_lignes_en_echec": [1]}).write_parquet(quality / "a.parquet")
    pl.DataFrame({"check": ["b"], "gravite": ["ERREUR"]}).write_parquet(quality / "b.parquet")
    pl.DataFrame({"bailleur_siren": ["1"], "bloque": [False]}).write_parquet(
        dirs["marts"] / "quality_bailleur_status.parquet")
    raw = tmp_path / "raw"
    (raw / "fichiers").mkdir(parents=True)
    pl.DataFrame({"sha256": ["x"], "statut": ["REJETE"]}).write_parquet(raw / "fichiers" / "x.parquet")

    pub = publish(dirs["warehouse"], dirs["marts"], dirs["catalog"], "run-1", quality, raw)

    assert pub.row_counts["quality_checks"] == 2
    assert pub.row_counts["quality_bailleur_status"] == 1
    assert pub.row_counts["fichiers"] == 1
    assert "anomalies" not in pub.row_counts
    assert sorted(pub.marts) == ["fct_tours", "mart_flux"]
    with duckdb.connect(str(dirs["catalog"]), read_only=True) as con:
        assert con.execute("select statut from fichiers").fetchall() == [("REJETE",)]
        assert con.execute("select count(gravite) from quality_checks").fetchone()[0] == 1


def test_a_reader_of_the_old_catalog_keeps_its_snapshot(dirs):
    write_warehouse(dirs["warehouse"], 2)
    publish(dirs["warehouse"], dirs["marts"], dirs["catalog"], "run-1")
    reader = duckdb.connect(str(dirs["catalog"]), read_only=True)
    try:
        assert count(reader, "mart_flux") == 2
        write_warehouse(dirs["warehouse"], 5)
        publish(dirs["warehouse"], dirs["marts"], dirs["catalog"], "run-2")
        # the old connection still sees a consistent old snapshot, mart by mart
        assert count(reader, "mart_flux") == 2 and count(reader, "fct_tours") == 2
    finally:
        reader.close()
    with duckdb.connect(str(dirs["catalog"]), read_only=True) as con:
        assert count(con, "mart_flux") == 5
    assert pl.read_parquet(dirs["marts"] / "fct_tours.parquet").height == 5


def test_failed_publication_leaves_the_previous_one_in_place(dirs):
    write_warehouse(dirs["warehouse"], 2)
    publish(dirs["warehouse"], dirs["marts"], dirs["catalog"], "run-1")
    dirs["warehouse"].unlink()
    with pytest.raises(duckdb.Error):
        publish(dirs["warehouse"], dirs["marts"], dirs["catalog"], "run-2")
    assert len(list((dirs["marts"] / PUBLICATIONS_DIR).iterdir())) == 1
    with duckdb.connect(str(dirs["catalog"]), read_only=True) as con:
        assert count(con, "mart_flux") == 2


def test_a_connection_held_open_survives_five_publications(dirs):
    """README's promise: a catalog connection keeps working for 24 h after a newer
    publication replaced its snapshot, however many publications follow."""
    write_warehouse(dirs["warehouse"], 2)
    publish(dirs["warehouse"], dirs["marts"], dirs["catalog"], "run-0")
    reader = duckdb.connect(str(dirs["catalog"]), read_only=True)
    try:
        for i in range(1, 6):
            write_warehouse(dirs["warehouse"], 2 + i)
            publish(dirs["warehouse"], dirs["marts"], dirs["catalog"], f"run-{i}")
            assert count(reader, "mart_flux") == 2 and count(reader, "fct_tours") == 2
    finally:
        reader.close()
    with duckdb.connect(str(dirs["catalog"]), read_only=True) as con:
        assert count(con, "mart_flux") == 7


def test_snapshots_replaced_longer_ago_than_the_retention_are_pruned(dirs, monkeypatch):
    write_warehouse(dirs["warehouse"], 1)
    published = [publish(dirs["warehouse"], dirs["marts"], dirs["catalog"], f"run-{i}")
                 for i in range(3)]
    root = dirs["marts"] / PUBLICATIONS_DIR
    replaced = version_time(published[2].version)  # run-1's snapshot replaced then
    prune_publications(root, timedelta(hours=24), now=replaced + timedelta(hours=23))
    assert len(list(root.iterdir())) == 3
    prune_publications(root, timedelta(hours=24), now=replaced + timedelta(hours=25))
    assert sorted(root.iterdir()) == [published[2].snapshot]
    monkeypatch.setenv(RETENTION_ENV, "0")
    last = publish(dirs["warehouse"], dirs["marts"], dirs["catalog"], "run-3")
    assert sorted(root.iterdir()) == [last.snapshot]


def test_input_files_and_their_fingerprint_identify_the_inputs():
    from dagster_project.defs.automation.definitions import fingerprint, input_files

    sources = pl.DataFrame({"bailleur_siren": ["1", "1", "2"],
                            "_source_file": ["b.csv", "b.csv", "a.xlsx"],
                            "_source_sha256": ["bb", "bb", "aa"]})
    files = input_files(sources)
    assert files == {"a.xlsx": "aa", "b.csv": "bb"}
    assert fingerprint(files) == fingerprint({"autre_nom.csv": "bb", "x": "aa"})
    assert fingerprint(files) != fingerprint({"a.xlsx": "aa"})
    assert input_files(None) == {}
