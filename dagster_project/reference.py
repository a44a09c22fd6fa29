"""Reference lists, read from the dbt seeds so that Python and SQL share one source of truth."""

from __future__ import annotations

from functools import cache

import polars as pl

from dagster_project.settings import SEEDS_DIR


@cache
def load_seed(name: str) -> pl.DataFrame:
    """The seed ``dbt/seeds/<name>.csv`` with every column as text (codes keep leading zeros)."""
    return pl.read_csv(SEEDS_DIR / f"{name}.csv", infer_schema=False)


@cache
def communes_of_year(annee: int) -> dict[str, str]:
    """Every INSEE code valid during bilan year ``annee`` → the reference-year commune it lies in.

    The reference year's communes and Paris arrondissements map to themselves; an earlier
    code (``ref_communes_historiques``: commune merged since, commune déléguée or associée)
    maps to the commune that absorbed it, when it was still valid in ``annee``. dbt applies
    the same rule (``dim_code_commune``).
    """
    current = load_seed("ref_communes")["commune_insee"].to_list()
    historical = load_seed("ref_communes_historiques").filter(
        pl.col("derniere_annee_valide").is_null()
        | (pl.col("derniere_annee_valide").cast(pl.Int32) >= annee)
    )
    return {code: code for code in current} | dict(
        historical.select("code_insee", "commune_insee").iter_rows()
    )


def codes_no_longer_valid(annee: int) -> dict[str, str]:
    """Codes of ``ref_communes_historiques`` not valid any more in bilan year ``annee`` → what
    became of them, in French (the commune that absorbed the place and the last valid year)."""
    names = dict(load_seed("ref_communes").select("commune_insee", "commune_nom").iter_rows())
    expired = load_seed("ref_communes_historiques").filter(
        pl.col("derniere_annee_valide").is_not_null()
        & (pl.col("derniere_annee_valide").cast(pl.Int32) < annee)
    )
    return {
        code: f"{nom} fait partie de {names.get(commune, commune)} ({commune}) ; "
        f"ce code n'est valable que jusqu'au bilan {derniere}"
        for code, nom, commune, derniere in expired.select(
            "code_insee", "nom", "commune_insee", "derniere_annee_valide").iter_rows()
    }
