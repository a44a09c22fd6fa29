"""The dbt command lines built for Dagster, the CLI and the tests."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dagster_project.defs.transform.dbt_cli import build_args, cli_command, dbt_env, parse_vars
from dagster_project.settings import DBT_PROJECT_DIR, Paths


def test_build_args_default_is_a_plain_build() -> None:
    assert build_args() == ["build"]


def test_build_args_carry_selection_and_choice_overrides() -> None:
    args = build_args(
        select=["marts"],
        exclude=["mart_sources"],
        dbt_vars={"reprise_imputee_par_defaut": False, "flux_indicatif_n_plus_1": "flux_net_n"},
    )
    assert args[:5] == ["build", "--select", "marts", "--exclude", "mart_sources"]
    assert args[5] == "--vars"
    assert json.loads(args[6]) == {
        "flux_indicatif_n_plus_1": "flux_net_n",
        "reprise_imputee_par_defaut": False,
    }


def test_cli_command_points_at_the_project_local_profile() -> None:
    command = cli_command(["parse"])
    assert command[1] == "parse"
    assert command[command.index("--project-dir") + 1] == str(DBT_PROJECT_DIR)
    assert command[command.index("--profiles-dir") + 1] == str(DBT_PROJECT_DIR)
    assert (DBT_PROJECT_DIR / "profiles.yml").exists()


def test_dbt_env_is_the_data_root_of_the_paths(tmp_path: Path) -> None:
    p = Paths(data=tmp_path / "d", landing=tmp_path / "landing")
    artifacts = str(tmp_path / "d" / "warehouse" / "dbt")
    assert dbt_env(p) == {"FLUX_DATA_DIR": str(tmp_path / "d"), "DBT_TARGET_PATH": artifacts,
                          "DBT_LOG_PATH": artifacts, "FLUX_DBT_PARTITIONS": ""}
    # a re-drop's build: the incremental models replace these partitions only
    assert dbt_env(p, ["297341513_2024"])["FLUX_DBT_PARTITIONS"] == "297341513_2024"


def test_parse_vars_reads_a_json_object_and_refuses_anything_else() -> None:
    assert parse_vars("") == {}
    assert parse_vars('{"reprise_imputee_par_defaut": false}') == {"reprise_imputee_par_defaut": False}
    with pytest.raises(ValueError, match="objet JSON"):
        parse_vars("[1, 2]")
