"""Allowed values of the contract's columns, read from the dbt seeds (one source of truth)."""

from __future__ import annotations

from functools import cache

import polars as pl

from dagster_project.ingest.contract import Column
from dagster_project.ingest.text import label_key
from dagster_project.reference import load_seed

# The key column of each seed a contract column can refer to (docs/contracts.md §1).
SEED_KEY = {
    "ref_communes": "commune_insee",
    "ref_departements": "departement",
    "ref_financements": "valeur",
    "ref_typologies": "valeur",
    "ref_hors_assiette": "motif",
    "ref_categories_operation": "categorie_operation",
    "ref_categories_reservataire": "categorie",
    "ref_issues": "issue",
}


def allowed(column: Column) -> list[str]:
    """The values a column accepts: a seed's key column, or the literal list of the contract."""
    if column.values in SEED_KEY:
        return _seed_values(column.values)
    return [v for v in column.values.split("|") if v]


@cache
def _seed_values(seed: str) -> list[str]:
    return load_seed(seed)[SEED_KEY[seed]].drop_nulls().unique(maintain_order=True).to_list()


@cache
def label_mapping(seed: str) -> dict[str, str]:
    """Lookup key (see ``text.label_key``) → the seed's normalised ``valeur``."""
    values = pl.DataFrame({"valeur": _seed_values(seed)})
    keyed = values.with_columns(key=label_key(pl.col("valeur"))).unique("key", keep="first")
    return dict(zip(keyed["key"].to_list(), keyed["valeur"].to_list(), strict=True))


@cache
def state_categories() -> list[str]:
    seed = load_seed("ref_categories_reservataire")
    return seed.filter(pl.col("est_etat").str.to_lowercase() == "true")["categorie"].to_list()


@cache
def communes() -> pl.DataFrame:
    """``commune_insee``, ``departement``, ``epci_siren``, ``ept_siren``, ``commune_parent``."""
    return load_seed("ref_communes").select(
        "commune_insee", "departement", "epci_siren", "ept_siren", "commune_parent"
    )
