"""The dbt command lines of the pipeline, and a plain runner for the CLI, tests and scripts.

Dagster runs dbt through ``DbtCliResource`` (definitions.py); ``run_dbt`` is the same command
without Dagster: ``run_dbt(["build"], paths())``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from dagster_project import status
from dagster_project.settings import DBT_PROJECT_DIR, Paths

# The profile lives in the project (dbt/profiles.yml): `--profiles-dir dbt`.
PROFILES_DIR = DBT_PROJECT_DIR


def dbt_executable() -> str:
    """The dbt of this interpreter's environment (the venv may not be on PATH), else PATH's."""
    beside_python = Path(sys.executable).parent / "dbt"
    if beside_python.exists():
        return str(beside_python)
    return shutil.which("dbt") or "dbt"


# The "<siren>_<annee>" partitions an incremental build replaces, comma-separated; empty: all
# (dbt/macros/partitions.sql, defs/transform/incremental.py).
PARTITIONS_ENV = "FLUX_DBT_PARTITIONS"


def dbt_env(p: Paths, partitions: Sequence[str] = ()) -> dict[str, str]:
    """Environment dbt needs: the data root its profile and sources resolve paths from, the
    target folder of that data root (dagster-dbt starts each invocation from the
    ``partial_parse.msgpack`` it finds there), and the partitions to rebuild (none: all)."""
    artifacts = str(p.dbt_artifacts)
    return {
        "FLUX_DATA_DIR": str(p.data),
        "DBT_TARGET_PATH": artifacts,
        "DBT_LOG_PATH": artifacts,
        PARTITIONS_ENV: ",".join(partitions),
    }


def prepare_data_root(p: Paths) -> None:
    """The folders dbt needs: the warehouse's (DuckDB creates the file, not its folder) and the
    status source's (empty until the first status is written)."""
    p.dbt_artifacts.mkdir(parents=True, exist_ok=True)
    status.ensure_schema(p.status)


def export_dbt_env(p: Paths, partitions: Sequence[str] = ()) -> None:
    """Pin dbt's environment in this process (dagster-dbt passes os.environ to dbt) and
    prepare the data root."""
    os.environ.update(dbt_env(p, partitions))
    prepare_data_root(p)


def parse_vars(text: str) -> dict[str, Any]:
    """dbt vars given as a JSON object (run config), e.g. ``{"reprise_imputee_par_defaut": false}``."""
    parsed = json.loads(text or "{}")
    if not isinstance(parsed, dict):
        raise ValueError(f"Les vars dbt doivent être un objet JSON, pas : {text!r}")
    return parsed


def build_args(
    *,
    select: Sequence[str] = (),
    exclude: Sequence[str] = (),
    dbt_vars: Mapping[str, Any] | None = None,
) -> list[str]:
    """`dbt build` arguments: optional selection and [choice] overrides (dbt_project.yml vars)."""
    args = ["build"]
    if select:
        args += ["--select", *select]
    if exclude:
        args += ["--exclude", *exclude]
    if dbt_vars:
        args += ["--vars", json.dumps(dict(dbt_vars), sort_keys=True)]
    return args


def cli_command(args: Sequence[str]) -> list[str]:
    """A full `dbt` command line for this project, runnable from any working directory."""
    return [
        dbt_executable(),
        *args,
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--profiles-dir",
        str(PROFILES_DIR),
    ]


def run_dbt(
    args: Sequence[str], p: Paths, target_path: Path | None = None, partitions: Sequence[str] = ()
) -> subprocess.CompletedProcess[str]:
    """Run dbt on this project against the data folder of ``p``; raise with dbt's log on failure.

    dbt's target and log folders default to ``p.dbt_artifacts`` so that runs on different
    data folders (tests in parallel) never share them. ``partitions``: the only ones the
    incremental models rebuild (default: all).
    """
    env = {**os.environ, **dbt_env(p, partitions)}
    if target_path is not None:
        env |= {"DBT_TARGET_PATH": str(target_path), "DBT_LOG_PATH": str(target_path)}
    prepare_data_root(p)
    done = subprocess.run(cli_command(args), capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise RuntimeError(f"dbt {' '.join(args)} a échoué :\n{done.stdout}\n{done.stderr}")
    return done
