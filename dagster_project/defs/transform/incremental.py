"""Whether a dbt build rebuilds one bailleur's partition or the whole warehouse.

The models of the bailleur grain are incremental (dbt/macros/partitions.sql): given
environment variable ``FLUX_DBT_PARTITIONS`` (``dbt_cli.dbt_env``), they replace those
(bailleur, année) partitions only. A run of ONE bailleur partition (the landing sensor's
re-drop, run tag ``dagster/partition``) passes its key, on one condition: the warehouse's last complete build was made by the same project — models, macros,
seeds, vars and dbt versions, the *fingerprint* kept in ``<dbt artifacts>/build_complet.json``.
Otherwise (the campaign, a first run, a new version of the models, other vars, a build that
failed half-way) the run rebuilds every table from scratch (``--full-refresh``), so a table
never keeps rows computed by older SQL. The fingerprint is forgotten when a build starts and
written back when it succeeds.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

from dagster_project.atomic import write_bytes
from dagster_project.defs.automation.partitions import PARTITION_TAG
from dagster_project.settings import DBT_PROJECT_DIR

STATE_FILE = "build_complet.json"
FULL_REFRESH = "--full-refresh"
NO_SEEDS = ("--exclude-resource-type", "seed")
# What the tables' content depends on besides the data (tests and docs do not change it).
PROJECT_INPUTS = ("dbt_project.yml", "models", "macros", "seeds")
LIBRARIES = ("dbt-core", "dbt-duckdb", "duckdb")


def fingerprint(dbt_vars: Mapping[str, Any], project_dir: Path = DBT_PROJECT_DIR) -> str:
    """Hash of everything a table's content depends on but the data."""
    digest = hashlib.sha256()
    digest.update(json.dumps(dict(dbt_vars), sort_keys=True).encode())
    digest.update(json.dumps({lib: version(lib) for lib in LIBRARIES}).encode())
    for name in PROJECT_INPUTS:
        root = project_dir / name
        files = sorted(root.rglob("*")) if root.is_dir() else [root]
        for f in files:
            if f.is_file():
                digest.update(f.relative_to(project_dir).as_posix().encode() + b"\0")
                digest.update(f.read_bytes())
    return digest.hexdigest()


@dataclass(frozen=True)
class BuildPlan:
    partitions: tuple[str, ...]  # empty: every partition, from scratch
    fingerprint: str
    reason: str  # French, for the run's log

    @property
    def incremental(self) -> bool:
        return bool(self.partitions)

    def extra_args(self) -> list[str]:
        """dbt arguments of this build. Incremental, the seeds are left as they are: their
        CSVs are part of the fingerprint, so their tables are those of the last complete build."""
        return [*NO_SEEDS] if self.incremental else [FULL_REFRESH]


def _state_path(artifacts: Path) -> Path:
    return artifacts / STATE_FILE


def last_complete_build(artifacts: Path) -> str | None:
    try:
        return json.loads(_state_path(artifacts).read_text())["fingerprint"]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def plan(
    run_tags: Mapping[str, str], dbt_vars: Mapping[str, Any], artifacts: Path
) -> BuildPlan:
    current = fingerprint(dbt_vars)
    partition = run_tags.get(PARTITION_TAG)
    if not partition:
        return BuildPlan((), current, "reconstruction complète (campagne)")
    if last_complete_build(artifacts) != current:
        return BuildPlan(
            (), current, "reconstruction complète (projet dbt ou vars modifiés depuis la "
            "dernière construction complète, ou construction précédente inachevée)"
        )
    return BuildPlan((partition,), current, f"reconstruction de la partition {partition}")


def forget(artifacts: Path) -> None:
    """Called before a build: if it fails half-way, the next run rebuilds everything."""
    _state_path(artifacts).unlink(missing_ok=True)


def remember(artifacts: Path, build: BuildPlan, run_id: str) -> None:
    """Called after a successful build: the warehouse is complete for this fingerprint, and
    run ``run_id`` rebuilt ``build.partitions`` (empty: all), which its checks then validate."""
    state = {"fingerprint": build.fingerprint, "run_id": run_id, "partitions": list(build.partitions)}
    write_bytes(_state_path(artifacts), json.dumps(state).encode())


def rebuilt_partitions(artifacts: Path, run_id: str) -> tuple[str, ...]:
    """The partitions the dbt build of run ``run_id`` rebuilt; empty when it rebuilt all of
    them, or when that run built nothing (the checks then validate every partition)."""
    try:
        state = json.loads(_state_path(artifacts).read_text())
        return tuple(state["partitions"]) if state["run_id"] == run_id else ()
    except (OSError, ValueError, KeyError, TypeError):
        return ()
