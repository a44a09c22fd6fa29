"""Category lists and French labels of the trames, read from the reference seeds.

The marts hold only non-zero cells; a trame shows every category of a breakdown (zeros
included) in the seed's order, plus whatever else the mart holds (e.g. "non renseigné").
"""

from __future__ import annotations

from functools import cache

import polars as pl

from dagster_project.reference import load_seed
from dagster_project.suivi.referentiel import load_referentiel

NON_RENSEIGNE = "NON_RENSEIGNE"

Category = tuple[str, str]  # (code, French label)

# dimension → (seed, code column, label column, order column); commune has no fixed list.
_DIMENSION_SEEDS = {
    "typologie": ("ref_typologies", "typologie", "typologie_libelle", "ordre"),
    "financement": ("ref_financements", "famille", "famille_libelle", "famille_ordre"),
    "qpv": ("ref_qpv", "valeur", "libelle", "ordre"),
    "periode_construction": ("ref_periodes_construction", "periode", "libelle", "ordre"),
}


def _ordered(seed: str, code: str, label: str, order: str) -> tuple[Category, ...]:
    frame = (
        load_seed(seed)
        .select(code, label, pl.col(order).cast(pl.Int64))
        .unique(subset=code)
        .sort(order, code)
    )
    return tuple((row[0], row[1]) for row in frame.iter_rows())


@cache
def dimensions() -> tuple[Category, ...]:
    """The five legal breakdowns (R441-5-1), as (dimension, title)."""
    return _ordered("ref_ventilations", "dimension", "libelle", "ordre")


@cache
def dimension_categories(dimension: str) -> tuple[Category, ...]:
    if dimension not in _DIMENSION_SEEDS:
        return ()
    return _ordered(*_DIMENSION_SEEDS[dimension])


@cache
def non_renseigne_label(dimension: str) -> str:
    row = load_seed("ref_ventilations").filter(pl.col("dimension") == dimension)
    return row["libelle_non_renseigne"][0] if row.height else "non renseigné"


@cache
def categories_operation() -> tuple[Category, ...]:
    return _ordered("ref_categories_operation", "categorie_operation", "libelle", "ordre")


@cache
def issues() -> tuple[Category, ...]:
    return _ordered("ref_issues", "issue", "libelle", "ordre")


@cache
def categories_reservataire() -> dict[str, str]:
    return dict(_ordered("ref_categories_reservataire", "categorie", "libelle", "ordre"))


def categorie_reservataire_label(code: str) -> str:
    """French label of a réservataire category; the code itself when the seed has none."""
    return categories_reservataire().get(code, code)


@cache
def categories_etat() -> frozenset[str]:
    seed = load_seed("ref_categories_reservataire")
    return frozenset(seed.filter(pl.col("est_etat") == "true")["categorie"].to_list())


@cache
def departements() -> dict[str, str]:
    seed = load_seed("ref_departements")
    return dict(zip(seed["departement"], seed["departement_nom"], strict=True))


@cache
def services_etat() -> dict[str, str]:
    seed = load_seed("ref_departements")
    return dict(zip(seed["departement"], seed["service_etat_nom"], strict=True))


@cache
def communes() -> dict[str, str]:
    seed = load_seed("ref_communes")
    return dict(zip(seed["commune_insee"], seed["commune_nom"], strict=True))


@cache
def territory_communes(territoire_code: str) -> frozenset[str]:
    """INSEE codes (arrondissements and their parent) of an EPCI, EPT, département or commune."""
    seed = load_seed("ref_communes")
    members = seed.filter(
        (pl.col("commune_parent") == territoire_code)
        | (pl.col("epci_siren") == territoire_code)
        | (pl.col("ept_siren") == territoire_code)
        | (pl.col("departement") == territoire_code)
    )
    return frozenset(members["commune_insee"].to_list() + members["commune_parent"].to_list())


@cache
def bailleurs() -> dict[str, str]:
    """SIREN → name of the bailleur, as the tracking shows it (``suivi.referentiel``)."""
    return {siren: b.nom for siren, b in load_referentiel().bailleurs.items()}
