"""dbt build on real raw stores: an empty store, and the choice of file versions in staging."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import duckdb

from dagster_project.defs.transform.dbt_cli import run_dbt
from dagster_project.ingest.pipeline import discover_partitions, ingest_partitions
from dagster_project.ingest.store import ensure_schemas
from dagster_project.settings import Paths
from tests.conftest import ACCEPTANCE

BAILLEUR = "297341513"
TOURS_CSV = ACCEPTANCE / "landing" / BAILLEUR / f"{BAILLEUR}_2024_tours.csv"


def ingest(p: Paths) -> None:
    ingest_partitions(p, discover_partitions(p.landing), run_id=f"test-{time.time_ns()}")


def drop(src: Path | str, dest: Path, mtime: float) -> None:
    """Drop a file in the landing folder with a given modification time (the drop order)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(src, Path):
        shutil.copyfile(src, dest)
    else:
        dest.write_text(src, encoding="utf-8")
    os.utime(dest, (mtime, mtime))


def test_an_empty_raw_store_builds_and_every_unit_test_runs(workspace: Paths) -> None:
    ensure_schemas(workspace.raw_store)
    target = workspace.data / "dbt-target"
    run_dbt(["build"], workspace, target_path=target)

    results = json.loads((target / "run_results.json").read_text())["results"]
    unit_tests = [r for r in results if r["unique_id"].startswith("unit_test.")]
    assert len(unit_tests) >= 6
    # exposures (the trames, dbt/models/marts/_exposures.yml) appear in the results as no-op
    exposures = {r["status"] for r in results if r["unique_id"].startswith("exposure.")}
    assert exposures <= {"no-op"}
    assert {r["status"] for r in results if not r["unique_id"].startswith("exposure.")} <= {
        "success",
        "pass",
    }
    with duckdb.connect(str(workspace.warehouse), read_only=True) as con:
        assert con.execute("select count(*) from mart_bilan_reservataire").fetchone() == (0,)
        built = con.execute(
            "select table_name, column_name from information_schema.columns"
        ).fetchall()

    # dbt docs is the analysts' data dictionary: every model and column is described.
    manifest = json.loads((target / "manifest.json").read_text())
    models = {n["name"]: n for n in manifest["nodes"].values() if n["resource_type"] == "model"}
    undocumented = [(t, c) for t, c in built if t in models and c not in models[t]["columns"]]
    assert undocumented == []
    assert [name for name, n in models.items() if not n["description"]] == []


def test_staging_keeps_the_latest_accepted_drop_of_each_sheet(workspace: Paths) -> None:
    for name in ("logements", "conventions", "previsionnel"):
        src = ACCEPTANCE / "landing" / BAILLEUR / f"{BAILLEUR}_2024_{name}.csv"
        drop(src, workspace.landing / "v1" / src.name, mtime=1_700_000_000)
    drop(TOURS_CSV, workspace.landing / "v1" / TOURS_CSV.name, mtime=1_700_000_000)
    ingest(workspace)

    # A later drop of the tours sheet alone, with only its first ten tours…
    lines = TOURS_CSV.read_text(encoding="utf-8-sig").splitlines()
    later = workspace.landing / "v2" / TOURS_CSV.name
    drop("\n".join(lines[:11]) + "\n", later, mtime=1_700_100_000)
    # …and an even later one that is rejected (no `issue` column): it must not count.
    header, *rows = lines
    broken = "\n".join([header.replace(",issue,", ",resultat_inconnu,"), *rows]) + "\n"
    drop(broken, workspace.landing / "v3" / TOURS_CSV.name, mtime=1_700_200_000)
    ingest(workspace)
    run_dbt(["build"], workspace)

    with duckdb.connect(str(workspace.warehouse), read_only=True) as con:
        statuts = dict(con.execute("select chemin, statut from stg_fichiers").fetchall())
        assert statuts[f"v3/{TOURS_CSV.name}"] == "REJETE"
        assert con.execute("select count(*), min(_source_file) from stg_tours").fetchone() == (
            10,
            f"v2/{TOURS_CSV.name}",
        )
        # The other sheets still come from the first drop.
        sources = dict(con.execute("select feuille, _source_file from mart_sources").fetchall())
        assert sources["logements"] == f"v1/{BAILLEUR}_2024_logements.csv"
        assert sources["tours"] == f"v2/{TOURS_CSV.name}"
