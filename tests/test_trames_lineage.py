"""Lineage and checks that explain themselves: dbt exposures end at the trames, every dbt
check says in French what it checks, the trames' asset group is named after them."""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg

from dagster_project.defs.reports.definitions import trames
from dagster_project.defs.transform.definitions import flux_dbt_assets
from dagster_project.defs.transform.check_descriptions import describe_test
from dagster_project.trames.loader import MARTS


def test_every_dbt_check_says_what_it_checks(dbt_manifest: Path) -> None:
    specs = list(flux_dbt_assets().check_specs)
    assert specs
    unsaid = [s.name for s in specs if not s.description or s.description.startswith("Test dbt")]
    assert unsaid == []


def test_a_generic_test_is_said_from_its_kind() -> None:
    node = {
        "test_metadata": {"name": "accepted_values", "kwargs": {"column_name": "qpv", "values": ["QPV", "HORS_QPV"]}},
        "config": {"severity": "warn"},
    }
    assert describe_test(node) == (
        "« qpv » ne prend que les valeurs admises : QPV, HORS_QPV. (Avertissement, non bloquant.)"
    )
    assert describe_test({**node, "description": "Dit par le YAML."}) == "Dit par le YAML."


def test_dbt_lineage_ends_at_the_trames(dbt_manifest: Path) -> None:
    manifest = json.loads(dbt_manifest.read_text(encoding="utf-8"))
    exposures = manifest["exposures"].values()
    assert {e["name"] for e in exposures} >= {
        "trame_reservataire", "trame_epci_ept", "trame_etat", "trame_previsionnel",
        "synthese_regionale", "consolidations_regionales",
    }
    for exposure in exposures:  # each document is drawn from marts the trames loader reads
        used = {n.split(".")[-1] for n in exposure["depends_on"]["nodes"]}
        assert used and used <= set(MARTS), exposure["name"]


def test_the_trames_group_is_named_after_what_it_holds() -> None:
    assert trames.group_names_by_key[dg.AssetKey("trames")] == "trames"
