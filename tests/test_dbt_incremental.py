"""Per-bailleur incremental builds: after a sequence of re-drops, the warehouse built partition
by partition is byte-identical to a full rebuild; and when a run may build incrementally."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import duckdb
import polars as pl
import pytest

from dagster_project.defs.automation.partitions import PARTITION_TAG
from dagster_project.defs.transform import incremental
from dagster_project.defs.transform.dbt_cli import run_dbt
from dagster_project.ingest.pipeline import discover_partitions, ingest_partitions
from dagster_project.quality.checks import CHECKS, read_warehouse, run_check
from dagster_project.quality.store import merge_outcomes
from dagster_project.settings import Paths
from tests.conftest import ACCEPTANCE
from tests.test_dbt_build import drop

CORRIGE = "297341513"  # drops a corrected tours file
DISPARU = "244244034"  # its files are withdrawn from the raw store
REJETE = "292178738"  # drops a tours file that is rejected
ANNEE = 2024
# the models, not the tests: the equivalence is about the tables' content
RUN = ["run"]


def export(p: Paths, out: Path) -> dict[str, str]:
    """Every table and view of the warehouse as Parquet, rows in a fixed order: name → sha256."""
    out.mkdir(parents=True)
    digests = {}
    with duckdb.connect(str(p.warehouse), read_only=True) as con:
        names = [n for (n,) in con.execute(
            "select table_name from information_schema.tables where table_schema = 'main' "
            "order by table_name").fetchall()]
        for name in names:
            target = out / f"{name}.parquet"
            con.execute(f"copy (select * from main.\"{name}\" order by all) to '{target}' (format parquet)")
            digests[name] = hashlib.sha256(target.read_bytes()).hexdigest()
    return digests


def redrop(p: Paths, siren: str) -> str:
    """The re-drop run of one partition: its ingestion, then dbt on that partition only;
    returns the SQL dbt ran to replace fct_tours."""
    key = f"{siren}_{ANNEE}"
    ingest_partitions(p, [key], run_id=f"redrop-{time.time_ns()}")
    run_dbt(RUN, p, partitions=[key])
    return (p.dbt_artifacts / "run/flux/models/marts/fct_tours.sql").read_text()


def withdraw(p: Paths, siren: str) -> None:
    """Every file of a bailleur leaves the landing folder and the raw store (all its tables)."""
    for path in sorted(p.landing.rglob(f"{siren}_*")):
        path.unlink()
    registry = pl.read_parquet(p.raw_store / "fichiers" / "*.parquet", include_file_paths="path")
    for path in registry.filter(pl.col("bailleur_siren") == siren)["path"].unique():
        for table in p.raw_store.iterdir():
            (table / Path(path).name).unlink(missing_ok=True)


def check(p: Paths, partitions: tuple[str, ...] = ()) -> dict[str, pl.DataFrame]:
    """Outcomes of every quality check, on the given partitions only or on all of them."""
    return {
        spec.name: run_check(spec, lambda: read_warehouse(p.warehouse, spec.reads, partitions), "t")
        for spec in CHECKS
    }


def comparable(outcomes: pl.DataFrame) -> pl.DataFrame:
    return outcomes.drop("run_id").sort(pl.all(), nulls_last=True)


def partitions_of(p: Paths, table: str) -> set[str]:
    with duckdb.connect(str(p.warehouse), read_only=True) as con:
        rows = con.execute(f"select distinct bailleur_siren from {table}").fetchall()
    return {siren for (siren,) in rows}


def test_a_sequence_of_redrops_gives_the_full_rebuild_byte_for_byte(
    acceptance_landing: Paths, tmp_path: Path
) -> None:
    p = acceptance_landing
    ingest_partitions(p, discover_partitions(p.landing), run_id="campagne")
    run_dbt(["build", "--full-refresh", "--exclude-resource-type", "test",
             "--exclude-resource-type", "unit_test"], p)  # seeds and models
    before = export(p, tmp_path / "avant")
    stored = check(p)

    # 1. A corrected tours file, as a new file: five tours redirected to the bailleur itself.
    tours = ACCEPTANCE / "landing" / CORRIGE / f"{CORRIGE}_{ANNEE}_tours.csv"
    header, *rows = tours.read_text(encoding="utf-8-sig").splitlines()
    rows[:5] = [r.replace(",ALS,", ",BAILLEUR,") for r in rows[:5]]
    drop("\n".join([header, *rows]) + "\n", p.landing / "correction" / tours.name, 1_900_000_000)
    sql = redrop(p, CORRIGE)
    assert f"delete from \"flux\".\"main\".\"fct_tours\" where ((bailleur_siren = '{CORRIGE}' and annee = {ANNEE}))" in sql

    # 2. A bailleur disappears: its partition is rebuilt with no rows left.
    withdraw(p, DISPARU)
    redrop(p, DISPARU)
    assert DISPARU not in partitions_of(p, "fct_tours") | partitions_of(p, "mart_sources")

    # 3. A rejected file: the bailleur's earlier accepted version still counts.
    rejected = ACCEPTANCE / "landing" / REJETE / f"{REJETE}_{ANNEE}.xlsx"
    drop("pas un classeur", p.landing / "v2" / rejected.name, 1_900_000_100)
    redrop(p, REJETE)
    assert REJETE in partitions_of(p, "fct_tours")

    incremental_build = export(p, tmp_path / "incremental")
    # each re-drop's checks validate its partition and keep the others' stored outcomes
    for siren in (CORRIGE, DISPARU, REJETE):
        key = (f"{siren}_{ANNEE}",)
        scoped = check(p, key)
        stored = {name: merge_outcomes(stored[name], scoped[name], key) for name in scoped}
    run_dbt([*RUN, "--full-refresh"], p)
    full = export(p, tmp_path / "complet")

    assert incremental_build == full
    changed = {name for name in full if before.get(name) != full[name]}
    assert {"stg_tours", "fct_tours", "mart_bilan_reservataire", "mart_sources"} <= changed
    full_outcomes = check(p)
    for name, outcomes in full_outcomes.items():
        assert comparable(stored[name]).equals(comparable(outcomes)), name
    assert DISPARU not in set(stored["qualite_fct_tours"]["bailleur_siren"])

    # partition keys become SQL: anything but <siren>_<annee> is refused
    with pytest.raises(RuntimeError, match="invalide"):
        run_dbt(["compile", "--select", "stg_tours"], p, partitions=[f"{CORRIGE}_{ANNEE}' or true --"])


ARTIFACTS_VARS = {"reprise_imputee_par_defaut": False}


def test_only_a_single_partition_run_after_a_complete_build_of_the_same_project_is_incremental(
    tmp_path: Path,
) -> None:
    key = f"{CORRIGE}_{ANNEE}"
    redrop_tags = {PARTITION_TAG: key}
    campaign = incremental.plan({}, {}, tmp_path)
    assert campaign.extra_args() == ["--full-refresh"] and campaign.partitions == ()

    # no complete build known yet (first run, or the previous build failed): from scratch
    assert not incremental.plan(redrop_tags, {}, tmp_path).incremental
    incremental.remember(tmp_path, campaign, "campagne")
    assert incremental.rebuilt_partitions(tmp_path, "campagne") == ()
    build = incremental.plan(redrop_tags, {}, tmp_path)
    assert build.incremental and build.extra_args() == ["--exclude-resource-type", "seed"]
    assert build.partitions == (key,)
    incremental.remember(tmp_path, build, "redepot")
    # the checks of that run validate its partition; those of a run that built nothing, all
    assert incremental.rebuilt_partitions(tmp_path, "redepot") == (key,)
    assert incremental.rebuilt_partitions(tmp_path, "autre") == ()
    # other [choice] vars than the complete build's: every figure may change
    assert not incremental.plan(redrop_tags, ARTIFACTS_VARS, tmp_path).incremental

    incremental.forget(tmp_path)  # a build starts
    assert not incremental.plan(redrop_tags, {}, tmp_path).incremental


def test_the_fingerprint_follows_the_models_not_the_tests(tmp_path: Path) -> None:
    project = tmp_path / "dbt"
    for name in ("models/m.sql", "macros/x.sql", "seeds/s.csv", "tests/t.sql"):
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_text("select 1")
    (project / "dbt_project.yml").write_text("name: flux")
    first = incremental.fingerprint({}, project)
    (project / "tests/t.sql").write_text("select 2")
    assert incremental.fingerprint({}, project) == first
    (project / "models/m.sql").write_text("select 2")
    assert incremental.fingerprint({}, project) != first

