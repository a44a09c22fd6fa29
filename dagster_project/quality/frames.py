"""Reconciliation frames: the cross-table rules of §6 as one small table each.

GX validates one table at a time; rules that span marts (breakdowns sum to totals, Σ
destinations = flux brut, rate caps, tour chronology) are computed here as pure Polars
functions whose output carries an explicit gap column (``ecart_*``, ``marge``…) that a suite
of ``expectations/`` then checks. Every frame keeps ``bailleur_siren`` and ``annee`` so a
failure is pinned on the bailleur concerned.
"""

from __future__ import annotations

from collections.abc import Iterable

import polars as pl

BAILLEUR = ["bailleur_siren", "annee"]
RESERVATAIRE = [*BAILLEUR, "reservataire_code"]
TOURS_PAR_ISSUE = (
    "tours_attribue",
    "tours_echec_carence",
    "tours_echec_refus_candidat",
    "tours_echec_refus_caleol",
    "tours_echec_autre",
    "tours_en_cours",
)


TERRITOIRE = [*BAILLEUR, "territoire_type", "territoire_code"]


def breakdown_reconciliation(
    totals: pl.DataFrame,
    cells: pl.DataFrame,
    keys: list[str],
    dimensions: Iterable[str],
    required: pl.Expr | None = None,
) -> pl.DataFrame:
    """Per ``keys`` × dimension: total vs sum of the breakdown cells (§6.7, §6.8).

    Rows of ``totals`` matching ``required`` (default: all) must be broken down along every
    dimension; the others are reconciled when they have cells. A dimension without any cell
    while the total is non-zero is ``dimension_absente``; cells without a total row show as a
    gap too.
    """
    sums = cells.group_by(*keys, "dimension").agg(
        pl.col("proposes").sum().alias("proposes_ventiles"),
        pl.col("attribues").sum().alias("attribues_ventiles"),
    )
    ventilated = sums.select(keys).unique().with_columns(pl.lit(True).alias("_ventile"))
    expected = (
        totals.join(ventilated, on=keys, how="left")
        .filter(pl.col("_ventile").fill_null(False) | (True if required is None else required))
        .select(
            *keys,
            pl.col("proposes").alias("proposes_total"),
            pl.col("attribues").alias("attribues_total"),
        )
        .join(pl.DataFrame({"dimension": list(dimensions)}), how="cross")
    )
    joined = expected.join(sums, on=[*keys, "dimension"], how="full", coalesce=True)
    zero = pl.lit(0, dtype=pl.Int64)
    return joined.with_columns(
        (
            pl.col("proposes_total").fill_null(zero) - pl.col("proposes_ventiles").fill_null(zero)
        ).alias("ecart_proposes"),
        (
            pl.col("attribues_total").fill_null(zero) - pl.col("attribues_ventiles").fill_null(zero)
        ).alias("ecart_attribues"),
        (
            pl.col("proposes_ventiles").is_null()
            & ((pl.col("proposes_total") > 0) | (pl.col("attribues_total") > 0))
        ).alias("dimension_absente"),
    ).sort(*keys, "dimension")


def ventilation_reconciliation(
    reservataire: pl.DataFrame, ventilation: pl.DataFrame, dimensions: Iterable[str]
) -> pl.DataFrame:
    """Bilan per réservataire: every réservataire is broken down along every dimension (the
    bailleur's own share when it has cells), each breakdown summing to its totals."""
    return breakdown_reconciliation(
        reservataire,
        ventilation,
        RESERVATAIRE,
        dimensions,
        pl.col("destination_type") == "RESERVATAIRE",
    )


def territory_reconciliation(
    territoire: pl.DataFrame, ventilation: pl.DataFrame, dimensions: Iterable[str]
) -> pl.DataFrame:
    """Territorial consolidation: every territory broken down along every dimension."""
    return breakdown_reconciliation(territoire, ventilation, TERRITOIRE, dimensions)


def attribution_margins(reservataire: pl.DataFrame, ventilation: pl.DataFrame) -> pl.DataFrame:
    """attribués ≤ proposés + report N-1 (§6.9), per réservataire and per breakdown cell.

    ``marge`` = proposés + report N-1 − attribués must be ≥ 0. The report N-1 is only known
    per réservataire, so a cell is held to the réservataire's whole report (a necessary
    condition). At réservataire level ``ecart_tours`` also checks that the tours by outcome
    add up to the tours (§6.8); it is empty on cell rows.
    """
    totals = reservataire.select(
        *RESERVATAIRE,
        pl.lit("total").alias("dimension"),
        pl.lit("total").alias("valeur"),
        "proposes",
        "attribues",
        "report_n_1",
        (pl.col("tours") - pl.sum_horizontal(TOURS_PAR_ISSUE)).alias("ecart_tours"),
    )
    cells = ventilation.join(
        reservataire.select(*RESERVATAIRE, "report_n_1"), on=RESERVATAIRE, how="left"
    ).select(
        *RESERVATAIRE,
        "dimension",
        "valeur",
        "proposes",
        "attribues",
        pl.col("report_n_1").fill_null(0),
        pl.lit(None, dtype=totals.schema["ecart_tours"]).alias("ecart_tours"),
    )
    both = pl.concat([totals, cells.cast(totals.schema)], how="vertical")
    return both.with_columns(
        (pl.col("proposes") + pl.col("report_n_1") - pl.col("attribues")).alias("marge")
    )


def rate_caps(
    perimetre: pl.DataFrame,
    categories: pl.DataFrame,
    communes: pl.DataFrame,
    etat: Iterable[str],
    etat_agents: Iterable[str],
    historiques: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Flux rates stacked on each commune, reduced to the worst commune per département (§6.3).

    A convention covers the communes of its perimeter (département, EPCI, EPT or commune;
    Paris arrondissements count as Paris). For each commune the rates of every convention
    covering it are added; per bailleur × département the highest sums are kept, with the
    commune where the total is highest. ``categories`` gives each réservataire code its
    catégorie (bailleur_siren, annee, reservataire_code, reservataire_categorie).
    ``historiques`` (seed ref_communes_historiques: ``code_insee`` → ``commune_insee``): a
    convention on a code merged since covers a place of its own inside the commune that
    absorbed it, also covered by every perimeter of that commune.
    """
    current = communes.filter(pl.col("commune_insee") == pl.col("commune_parent")).select(
        "commune_insee", "departement", "epci_siren", "ept_siren", absorbante=pl.col("commune_insee")
    )
    named = perimetre.filter(pl.col("perimetre_type") == "COMMUNE")["perimetre_code"].unique().to_list()
    merged = (
        pl.DataFrame(schema={"code_insee": pl.String, "commune_insee": pl.String})
        if historiques is None
        else historiques.select("code_insee", "commune_insee").filter(pl.col("code_insee").is_in(named))
    )
    places = pl.concat([
        current,
        merged.join(current.drop("commune_insee"), left_on="commune_insee", right_on="absorbante")
        .select(pl.col("code_insee").alias("commune_insee"), "departement", "epci_siren", "ept_siren",
                absorbante=pl.col("commune_insee")),
    ])
    coverage = pl.concat(
        [
            places.select(
                pl.lit(kind).alias("perimetre_type"),
                pl.col(column).alias("perimetre_code"),
                "commune_insee",
            )
            for kind, column in (
                ("DEPARTEMENT", "departement"),
                ("EPCI", "epci_siren"),
                ("EPT", "ept_siren"),
                ("COMMUNE", "commune_insee"),
                ("COMMUNE", "absorbante"),
            )
        ]
    ).drop_nulls().unique()
    arrondissements = communes.select(
        pl.col("commune_insee").alias("perimetre_code"), pl.col("commune_parent").alias("_parent")
    )
    conventions = (
        perimetre.join(arrondissements, on="perimetre_code", how="left")
        .with_columns(
            pl.when(pl.col("perimetre_type") == "COMMUNE")
            .then(pl.coalesce("_parent", "perimetre_code"))
            .otherwise(pl.col("perimetre_code"))
            .alias("perimetre_code")
        )
        .join(
            categories.select(*RESERVATAIRE, "reservataire_categorie"), on=RESERVATAIRE, how="left"
        )
    )
    etat, etat_agents = list(etat), list(etat_agents)
    per_commune = (
        conventions.join(coverage, on=["perimetre_type", "perimetre_code"], how="inner")
        .join(places.select("commune_insee", "departement"), on="commune_insee")
        .group_by(*BAILLEUR, "departement", "commune_insee")
        .agg(
            pl.col("taux_flux").sum().alias("taux_total"),
            pl.col("taux_flux")
            .filter(pl.col("reservataire_categorie").is_in(etat))
            .sum()
            .alias("taux_etat"),
            pl.col("taux_flux")
            .filter(pl.col("reservataire_categorie").is_in(etat_agents))
            .sum()
            .alias("taux_etat_agents"),
        )
    )
    return (
        per_commune.sort("taux_total", "commune_insee", descending=[True, False])
        .group_by(*BAILLEUR, "departement", maintain_order=True)
        .agg(
            pl.col("taux_total").max(),
            pl.col("taux_etat").max(),
            pl.col("taux_etat_agents").max(),
            pl.col("commune_insee").first().alias("commune_la_plus_chargee"),
        )
        .sort(*BAILLEUR, "departement")
    )


def destinations_reconciliation(flux: pl.DataFrame, tours: pl.DataFrame) -> pl.DataFrame:
    """Σ destinations = flux brut per bailleur × département (§6.10).

    Each dwelling of the flux brut (``dans_assiette``) is counted once, under the destination
    of its first tour oriented in N (réservataire, bailleur or hors flux); the hors-flux ones
    are the soustraits.
    """
    first = tours.filter(pl.col("est_premier_tour_en_n") & pl.col("dans_assiette"))
    counted = first.group_by(*BAILLEUR, "departement").agg(
        (pl.col("destination_type") == "RESERVATAIRE")
        .sum()
        .cast(pl.Int64)
        .alias("vers_reservataires"),
        (pl.col("destination_type") == "BAILLEUR").sum().cast(pl.Int64).alias("vers_bailleur"),
        (pl.col("destination_type") == "HORS_FLUX").sum().cast(pl.Int64).alias("hors_flux"),
    )
    joined = flux.select(*BAILLEUR, "departement", "flux_brut", "soustraits", "flux_net").join(
        counted, on=[*BAILLEUR, "departement"], how="full", coalesce=True
    )
    n = {
        c: pl.col(c).fill_null(0)
        for c in (
            "flux_brut",
            "soustraits",
            "flux_net",
            "vers_reservataires",
            "vers_bailleur",
            "hors_flux",
        )
    }
    return joined.with_columns(
        (n["flux_brut"] - n["vers_reservataires"] - n["vers_bailleur"] - n["hors_flux"]).alias(
            "ecart_destinations"
        ),
        (n["soustraits"] - n["hors_flux"]).alias("ecart_soustraits"),
        (n["flux_net"] - (n["flux_brut"] - n["soustraits"])).alias("ecart_flux_net"),
    ).sort(*BAILLEUR, "departement")


def tour_chronology(tours: pl.DataFrame) -> pl.DataFrame:
    """Per dwelling: ranks 1..k without gaps, at most one attribué, nothing after it (§6.4),
    and each tour oriented no earlier than the previous tour's outcome (§6.6)."""
    ordered = tours.sort(*BAILLEUR, "logement_id", "numero_tour").with_columns(
        pl.col("date_issue").shift(1).over(*BAILLEUR, "logement_id").alias("_issue_precedente"),
        (pl.col("issue") == "ATTRIBUE")
        .cum_sum()
        .shift(1)
        .over(*BAILLEUR, "logement_id")
        .alias("_attribues_avant"),
    )
    return (
        ordered.group_by(*BAILLEUR, "logement_id")
        .agg(
            pl.len().alias("nb_tours"),
            (
                (pl.col("numero_tour").min() == 1)
                & (pl.col("numero_tour").max() == pl.len())
                & (pl.col("numero_tour").n_unique() == pl.len())
            ).alias("rangs_continus"),
            (pl.col("issue") == "ATTRIBUE").sum().cast(pl.Int64).alias("nb_attribues"),
            (pl.col("_attribues_avant").fill_null(0) > 0)
            .sum()
            .cast(pl.Int64)
            .alias("tours_apres_attribution"),
            (pl.col("date_orientation") < pl.col("_issue_precedente"))
            .sum()
            .cast(pl.Int64)
            .alias("orientations_avant_issue_precedente"),
            pl.col("_source_file").first(),
        )
        .sort(*BAILLEUR, "logement_id")
    )


def column_inventory(tables: dict[str, Iterable[str]]) -> pl.DataFrame:
    """One row per (table, column): what the personal-data rule (§6.11) is checked on."""
    return pl.DataFrame(
        [(table, column) for table, columns in tables.items() for column in columns],
        schema={"table": pl.String, "colonne": pl.String},
        orient="row",
    )
