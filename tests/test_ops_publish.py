"""Publication of the marts: Parquet files and catalog swapped atomically, snapshots kept."""

from __future__ import annotations

from datetime import UTC, timedelta
from pathlib import Path

import duckdb
import polars as pl
import pytest

from dagster_project.settings import Paths
from dagster_project.publish import (
    RETENTION_ENV,
    PUBLICATIONS_DIR,
    prune_publications,
    version_time,
    is_published_mart,
    publication_version,
    publish,
)


def write_warehouse(path: Path, nb_bailleurs: int, annees: tuple[int, ...] = (2024,)) -> None:
    """A warehouse with two marts, one non-published model, ``nb_bailleurs`` rows each year."""
    path.parent.mkdir(parents=True, exist_ok=True)
    years = ", ".join(f"({a})" for a in annees)
    with duckdb.connect(str(path)) as con:
        for table in ("mart_flux", "fct_tours", "stg_tours"):
            con.execute(f"create or replace table {table} as "
                        f"select lpad(i::varchar, 9, '0') as bailleur_siren, y.annee "
                        f"from range({nb_bailleurs}) t(i), (values {years}) y(annee)")


def count(con: duckdb.DuckDBPyConnection, table: str) -> int:
    return con.execute(f"select count(*) from {table}").fetchone()[0]


@pytest.fixture
def dirs(tmp_path: Path) -> dict[str, Path]:
    p = Paths(data=tmp_path, landing=tmp_path / "raw")
    p.marts.mkdir()
    return {"p": p, "warehouse": p.warehouse, "marts": p.marts, "catalog": p.catalog,
            "year": p.published(2024)}


def run(dirs, run_id: str, annees: list[int] = [2024]):  # noqa: B006 (read only)
    return publish(dirs["p"], run_id, annees)


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
    pub = run(dirs, "run-1")

    assert pub.row_counts[2024] == {"fct_tours": 3, "mart_flux": 3}
    assert sorted(p.name for p in dirs["year"].glob("*.parquet")) == [
        "fct_tours.parquet", "mart_flux.parquet"]
    assert pl.read_parquet(dirs["year"] / "mart_flux.parquet").height == 3
    assert not list(dirs["marts"].glob("*.parquet"))
    with duckdb.connect(str(dirs["catalog"]), read_only=True) as con:
        assert count(con, "mart_flux") == 3
        views = {r[0] for r in con.execute(
            "select view_name from duckdb_views() where not internal").fetchall()}
        assert views == {"mart_flux", "fct_tours", "envois"}  # envois: the delivery journal
        assert con.execute("select annee, table_name, nb_lignes from _publication "
                           "order by all").fetchall() == [("2024", "fct_tours", 3), ("2024", "mart_flux", 3)]
    assert not list(dirs["p"].published(None).iterdir())  # no row without a year
    assert not list(dirs["marts"].rglob(".*.tmp"))


def test_a_year_is_published_alone_and_the_catalog_reads_every_year(dirs):
    """Re-publishing 2025 leaves 2024's files as they were (same inode, same bytes); the
    catalog's views hold both years."""
    p = dirs["p"]
    write_warehouse(dirs["warehouse"], 2, annees=(2024, 2025))
    run(dirs, "run-1", [2024])
    run(dirs, "run-2", [2025])
    before = {f: (f.stat().st_ino, f.read_bytes()) for f in p.published(2024).iterdir()}
    write_warehouse(dirs["warehouse"], 4, annees=(2024, 2025))
    run(dirs, "run-3", [2025])
    assert {f: (f.stat().st_ino, f.read_bytes()) for f in p.published(2024).iterdir()} == before
    assert pl.read_parquet(p.published(2024) / "mart_flux.parquet").height == 2
    assert set(pl.read_parquet(p.published(2025) / "mart_flux.parquet")["annee"]) == {2025}
    with duckdb.connect(str(dirs["catalog"]), read_only=True) as con:
        assert con.execute("select annee, count(*) from mart_flux group by annee order by annee"
                           ).fetchall() == [(2024, 2), (2025, 4)]


def test_quality_status_and_raw_file_log_are_published_per_year(dirs):
    p = dirs["p"]
    write_warehouse(dirs["warehouse"], 2)
    p.quality.mkdir(parents=True)
    pl.DataFrame({"check": ["a"], "annee": [2024], "nb_lignes_en_echec": [1]}).write_parquet(
        p.quality / "a.parquet")
    pl.DataFrame({"check": ["b"], "annee": [None], "gravite": ["ERREUR"]}).write_parquet(
        p.quality / "b.parquet")
    p.scorecard.mkdir(parents=True)
    pl.DataFrame({"bailleur_siren": ["1", "2"], "annee": [2024, 2025], "bloque": [False, True]}
                 ).write_parquet(p.scorecard / "quality_bailleur_status.parquet")
    (p.raw_store / "fichiers").mkdir(parents=True)
    (p.raw_store / "anomalies").mkdir(parents=True)
    pl.DataFrame({"sha256": ["x", "y", "z"], "chemin": ["a", "b", "c"], "annee": [2024, None, 2025],
                  "statut": ["REJETE", "REJETE", "ACCEPTE"]}
                 ).write_parquet(p.raw_store / "fichiers" / "x.parquet")
    pl.DataFrame({"sha256": ["x", "y"], "chemin": ["a", "b"], "regle": ["R1", "R2"]}
                 ).write_parquet(p.raw_store / "anomalies" / "x.parquet")

    pub = run(dirs, "run-1")

    assert pub.row_counts[2024] | {"fct_tours": 0} == {
        "fct_tours": 0, "mart_flux": 2, "quality_checks": 1, "quality_bailleur_status": 1,
        "fichiers": 1, "anomalies": 1}
    assert pub.row_counts[None] == {"quality_checks": 1, "fichiers": 1, "anomalies": 1}
    assert pub.marts == ["fct_tours", "mart_flux"]
    assert pl.read_parquet(p.published(None) / "anomalies.parquet")["regle"].to_list() == ["R2"]
    with duckdb.connect(str(dirs["catalog"]), read_only=True) as con:
        assert con.execute("select chemin from fichiers order by all").fetchall() == [("a",), ("b",)]
        assert con.execute("select count(gravite) from quality_checks").fetchone()[0] == 1


def test_a_reader_of_the_old_catalog_keeps_its_snapshot(dirs):
    write_warehouse(dirs["warehouse"], 2)
    run(dirs, "run-1")
    reader = duckdb.connect(str(dirs["catalog"]), read_only=True)
    try:
        assert count(reader, "mart_flux") == 2
        write_warehouse(dirs["warehouse"], 5)
        run(dirs, "run-2")
        # the old connection still sees a consistent old snapshot, mart by mart
        assert count(reader, "mart_flux") == 2 and count(reader, "fct_tours") == 2
    finally:
        reader.close()
    with duckdb.connect(str(dirs["catalog"]), read_only=True) as con:
        assert count(con, "mart_flux") == 5
    assert pl.read_parquet(dirs["year"] / "fct_tours.parquet").height == 5


def test_failed_publication_leaves_the_previous_one_in_place(dirs):
    write_warehouse(dirs["warehouse"], 2)
    run(dirs, "run-1")
    dirs["warehouse"].unlink()
    with pytest.raises(duckdb.Error):
        run(dirs, "run-2")
    assert len(list((dirs["marts"] / PUBLICATIONS_DIR / "2024").iterdir())) == 1
    with duckdb.connect(str(dirs["catalog"]), read_only=True) as con:
        assert count(con, "mart_flux") == 2


def test_a_connection_held_open_survives_five_publications(dirs):
    """README's promise: a catalog connection keeps working for 24 h after a newer
    publication replaced its snapshot, however many publications follow."""
    write_warehouse(dirs["warehouse"], 2)
    run(dirs, "run-0")
    reader = duckdb.connect(str(dirs["catalog"]), read_only=True)
    try:
        for i in range(1, 6):
            write_warehouse(dirs["warehouse"], 2 + i)
            run(dirs, f"run-{i}")
            assert count(reader, "mart_flux") == 2 and count(reader, "fct_tours") == 2
    finally:
        reader.close()
    with duckdb.connect(str(dirs["catalog"]), read_only=True) as con:
        assert count(con, "mart_flux") == 7


def test_snapshots_replaced_longer_ago_than_the_retention_are_pruned(dirs, monkeypatch):
    write_warehouse(dirs["warehouse"], 1)
    published = [run(dirs, f"run-{i}")
                 for i in range(3)]
    root = dirs["marts"] / PUBLICATIONS_DIR / "2024"
    replaced = version_time(published[2].version)  # run-1's snapshot replaced then
    prune_publications(root, timedelta(hours=24), now=replaced + timedelta(hours=23))
    assert len(list(root.iterdir())) == 3
    prune_publications(root, timedelta(hours=24), now=replaced + timedelta(hours=25))
    assert sorted(root.iterdir()) == [published[2].snapshots[2024]]
    monkeypatch.setenv(RETENTION_ENV, "0")
    last = run(dirs, "run-3")
    assert sorted(root.iterdir()) == [last.snapshots[2024]]


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


def test_the_single_folder_layout_of_earlier_versions_is_removed(dirs):
    """Before per-year folders every mart was one file of all years in marts/: a reader of
    that stale file would miss every later publication."""
    write_warehouse(dirs["warehouse"], 1)
    old_snapshot = dirs["marts"] / PUBLICATIONS_DIR / "20250305T060000000000_abcd1234"
    old_snapshot.mkdir(parents=True)
    for old in ("mart_flux", "statut_bailleurs", "quality_scorecard"):
        pl.DataFrame({"annee": [2023]}).write_parquet(dirs["marts"] / f"{old}.parquet")
    (dirs["marts"] / "notes.parquet").write_bytes(b"not ours")
    run(dirs, "run-1")
    assert [f.name for f in dirs["marts"].glob("*.parquet")] == ["notes.parquet"]
    assert not old_snapshot.exists()
