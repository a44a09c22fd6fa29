"""Value lists the suites refer to as ``{"$PARAMETER": "<name>"}``, read from the dbt seeds.

The lists stay where the regional team maintains them (``dbt/seeds``); a suite names them.
Breakdown value lists include the explicit "non renseigné" bucket (§6.7): an unknown value
is allowed but reported by a separate AVERTISSEMENT expectation.
"""

from __future__ import annotations

from functools import cache

from dagster_project.reference import load_seed

NON_RENSEIGNE = "NON_RENSEIGNE"


def _values(seed: str, column: str, *, where: tuple[str, str] | None = None) -> list[str]:
    frame = load_seed(seed)
    if where:
        frame = frame.filter(frame[where[0]] == where[1])
    return sorted(frame[column].drop_nulls().unique().to_list())


@cache
def expectation_parameters() -> dict[str, list[str]]:
    def with_unknown(values: list[str]) -> list[str]:
        return [*values, NON_RENSEIGNE]

    return {
        "dimensions": _values("ref_ventilations", "dimension"),
        "typologies": with_unknown(_values("ref_typologies", "typologie")),
        "financements": with_unknown(_values("ref_financements", "famille")),
        "qpv": with_unknown(_values("ref_qpv", "valeur")),
        "communes": with_unknown(_values("ref_communes", "commune_parent")),
        "communes_idf": _values("ref_communes", "commune_parent"),
        # A convention's commune may be a code of the bilan year merged since (ingestion checks
        # it was valid in N: reference.communes_of_year).
        "communes_et_arrondissements": sorted(
            _values("ref_communes", "commune_insee") + _values("ref_communes_historiques", "code_insee")
        ),
        "periodes_construction": with_unknown(_values("ref_periodes_construction", "periode")),
        "departements": _values("ref_departements", "departement"),
        "epci": _values("ref_epci", "epci_siren"),
        "ept": _values("ref_ept", "ept_siren"),
        "categories_reservataire": _values("ref_categories_reservataire", "categorie"),
        "categories_etat": _values(
            "ref_categories_reservataire", "categorie", where=("est_etat", "true")
        ),
        "categories_operation": _values("ref_categories_operation", "categorie_operation"),
        "issues": _values("ref_issues", "issue"),
        "non_renseigne": [NON_RENSEIGNE],
    }
