"""A small, consistent campaign of marts (two bailleurs) and the reconciliation frames on it.

``good_marts()`` is the fixture the quality tests corrupt one rule at a time: bailleur A
(111111111, Paris) and bailleur B (222222222, Saint-Denis), each with three dwellings: one
attributed to Action Logement, one repris by the bailleur after Action Logement's carence,
one subtracted from the flux (mutation interne). The figures follow domain §3.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from dagster_project.quality import frames
from dagster_project.quality.parameters import expectation_parameters

A, B = "111111111", "222222222"
ANNEE = 2024
PLACES = {
    A: ("75", "75056", "75112"),
    B: ("93", "93066", "93066"),
}  # département, commune, commune_insee
CELLS = {
    "typologie": "T2",
    "financement": "PLUS",
    "qpv": "HORS_QPV",
    "periode_construction": "1971_1990",
}


def _tours(siren: str) -> list[dict]:
    dep, commune, insee = PLACES[siren]
    d = date

    def tour(logement, rang, orientation, issue_date, destinataire, issue, categorie=None):
        kind = destinataire if destinataire in ("BAILLEUR", "HORS_FLUX") else "RESERVATAIRE"
        return {
            "bailleur_siren": siren,
            "annee": ANNEE,
            "logement_id": logement,
            "numero_tour": rang,
            "date_orientation": orientation,
            "date_issue": issue_date,
            "destinataire": destinataire,
            "destination_type": kind,
            "reservataire_code": destinataire if kind == "RESERVATAIRE" else None,
            "reservataire_id": f"R-{destinataire}" if kind == "RESERVATAIRE" else None,
            "convention_perimetre_type": "DEPARTEMENT" if kind == "RESERVATAIRE" else None,
            "convention_perimetre_code": dep if kind == "RESERVATAIRE" else None,
            "categorie_operation": categorie,
            "issue": issue,
            "annee_orientation": orientation.year,
            "annee_issue": issue_date.year if issue_date else None,
            "oriente_en_n": orientation.year == ANNEE,
            "attribue_en_n": issue == "ATTRIBUE" and issue_date.year == ANNEE,
            "est_premier_tour_en_n": rang == 1,
            "dans_assiette": True,
            "commune_insee": insee,
            "commune": commune,
            "departement": dep,
            "typologie": "T2",
            "financement_famille": "PLUS",
            "qpv": "HORS_QPV",
            "periode_construction": "1971_1990",
            "_source_file": f"{siren}_2024_tours.csv",
            "_row_number": 0,
        }

    rows = [
        tour("L1", 1, d(2024, 2, 1), d(2024, 3, 1), "ALS", "ATTRIBUE"),
        tour("L2", 1, d(2024, 4, 1), d(2024, 5, 1), "ALS", "ECHEC_CARENCE"),
        tour("L2", 2, d(2024, 5, 2), d(2024, 6, 1), "BAILLEUR", "ATTRIBUE"),
        tour("L3", 1, d(2024, 7, 1), d(2024, 8, 1), "HORS_FLUX", "ATTRIBUE", "MUTATION_INTERNE"),
    ]
    for i, row in enumerate(rows, start=2):
        row["_row_number"] = i
    return rows


def _reservataires(siren: str) -> list[dict]:
    dep = PLACES[siren][0]
    common = {
        "bailleur_siren": siren,
        "annee": ANNEE,
        "report_n_1": 0,
        "repris": 0,
        "tours_echec_refus_candidat": 0,
        "tours_echec_refus_caleol": 0,
        "tours_echec_autre": 0,
        "tours_en_cours": 0,
        "departements": dep,
    }
    return [
        {
            **common,
            "reservataire_code": "ALS",
            "destination_type": "RESERVATAIRE",
            "reservataire_id": "R-ALS",
            "reservataire_categorie": "ACTION_LOGEMENT",
            "proposes": 2,
            "attribues": 1,
            "repris": 1,
            "realise": 2,
            "droit": 0.4,
            "tours": 2,
            "tours_attribue": 1,
            "tours_echec_carence": 1,
        },
        {
            **common,
            "reservataire_code": "PREF",
            "destination_type": "RESERVATAIRE",
            "reservataire_id": "R-PREF",
            "reservataire_categorie": "ETAT_PRIORITAIRES",
            "proposes": 0,
            "attribues": 0,
            "realise": 0,
            "droit": 0.5,
            "tours": 0,
            "tours_attribue": 0,
            "tours_echec_carence": 0,
        },
        {
            **common,
            "reservataire_code": "BAILLEUR",
            "destination_type": "BAILLEUR",
            "reservataire_id": None,
            "reservataire_categorie": None,
            "proposes": 1,
            "attribues": 1,
            "realise": 1,
            "droit": None,
            "tours": 1,
            "tours_attribue": 1,
            "tours_echec_carence": 0,
        },
    ]


def _ventilation(siren: str) -> list[dict]:
    commune = PLACES[siren][1]
    rows = []
    for code, proposes, attribues in (("ALS", 2, 1), ("BAILLEUR", 1, 1)):
        for dimension, valeur in {**CELLS, "commune": commune}.items():
            rows.append(
                {
                    "bailleur_siren": siren,
                    "annee": ANNEE,
                    "reservataire_code": code,
                    "dimension": dimension,
                    "valeur": valeur,
                    "proposes": proposes,
                    "attribues": attribues,
                }
            )
    return rows


def _one(siren: str) -> dict[str, list[dict]]:
    dep, commune, _ = PLACES[siren]
    key = {"bailleur_siren": siren, "annee": ANNEE}
    return {
        "fct_tours": _tours(siren),
        "mart_flux": [{**key, "departement": dep, "flux_brut": 3, "soustraits": 1, "flux_net": 2}],
        "mart_flux_perimetre": [
            {
                **key,
                "reservataire_code": "ALS",
                "perimetre_type": "DEPARTEMENT",
                "perimetre_code": dep,
                "reservataire_id": "R-ALS",
                "taux_flux": 20.0,
                "flux_net_perimetre": 2,
                "droit": 0.4,
            },
            {
                **key,
                "reservataire_code": "PREF",
                "perimetre_type": "COMMUNE",
                "perimetre_code": PLACES[siren][2],
                "reservataire_id": "R-PREF",
                "taux_flux": 25.0,
                "flux_net_perimetre": 2,
                "droit": 0.5,
            },
        ],
        "mart_bilan_reservataire": _reservataires(siren),
        "mart_bilan_ventilation": _ventilation(siren),
        "mart_bilan_territoire": [
            {
                **key,
                "territoire_type": "DEPARTEMENT",
                "territoire_code": dep,
                "proposes": 2,
                "attribues": 2,
                "hors_flux_proposes": 1,
                "hors_flux_attribues": 1,
                "etat_prioritaires_attribues": 0,
                "attribues_hors_qpv": 2,
                "part_hors_qpv": 1.0,
            },
        ],
        "mart_territoire_ventilation": [
            {
                **key,
                "territoire_type": "DEPARTEMENT",
                "territoire_code": dep,
                "dimension": dimension,
                "valeur": valeur,
                "proposes": 2,
                "attribues": 2,
            }
            for dimension, valeur in {**CELLS, "commune": commune}.items()
        ],
        "mart_recipients": [
            {
                **key,
                "kind": "RESERVATAIRE",
                "recipient_code": "ALS",
                "recipient_nom": "Action Logement",
                "departement": dep,
                "email": "bilans@actionlogement.example",
            }
        ],
    }


def good_marts() -> dict[str, pl.DataFrame]:
    """Both bailleurs' marts, plus ``_colonnes`` (the column inventory), as ``read_marts`` gives."""
    a, b = _one(A), _one(B)
    marts = {name: pl.DataFrame(a[name] + b[name], infer_schema_length=None) for name in a}
    marts["_colonnes"] = frames.column_inventory({n: f.columns for n, f in marts.items()})
    return marts


def _bailleur(frame: pl.DataFrame, siren: str) -> pl.DataFrame:
    return frame.filter(pl.col("bailleur_siren") == siren)


def test_ventilations_reconcile_on_the_good_campaign() -> None:
    marts = good_marts()
    rec = frames.ventilation_reconciliation(
        marts["mart_bilan_reservataire"],
        marts["mart_bilan_ventilation"],
        expectation_parameters()["dimensions"],
    )
    # ALS and BAILLEUR × 5 dimensions × 2 bailleurs; PREF (nothing proposed) needs no breakdown
    # but is still listed, with nothing missing.
    assert rec.height == 2 * 3 * 5
    assert rec["ecart_proposes"].to_list() == [0] * 30
    assert not rec["dimension_absente"].any()


def test_a_missing_breakdown_shows_as_absent_with_its_gap() -> None:
    marts = good_marts()
    ventilation = marts["mart_bilan_ventilation"].filter(
        ~(
            (pl.col("bailleur_siren") == B)
            & (pl.col("dimension") == "commune")
            & (pl.col("reservataire_code") == "ALS")
        )
    )
    rec = frames.ventilation_reconciliation(
        marts["mart_bilan_reservataire"], ventilation, ["commune", "qpv"]
    )
    bad = rec.filter(pl.col("dimension_absente"))
    assert bad.select(
        "bailleur_siren", "reservataire_code", "dimension", "ecart_proposes"
    ).rows() == [(B, "ALS", "commune", 2)]


def test_territories_reconcile_with_their_breakdowns() -> None:
    marts = good_marts()
    rec = frames.territory_reconciliation(
        marts["mart_bilan_territoire"],
        marts["mart_territoire_ventilation"],
        expectation_parameters()["dimensions"],
    )
    assert (
        rec.height == 2 * 5
        and (rec["ecart_attribues"] == 0).all()
        and not rec["dimension_absente"].any()
    )


def test_attribution_margins_hold_totals_and_cells_to_the_report() -> None:
    marts = good_marts()
    margins = frames.attribution_margins(
        marts["mart_bilan_reservataire"], marts["mart_bilan_ventilation"]
    )
    assert (margins["marge"] >= 0).all()
    totals = margins.filter(pl.col("dimension") == "total")
    assert totals["ecart_tours"].to_list() == [0] * 6
    assert margins.filter(pl.col("dimension") != "total")["ecart_tours"].null_count() == 20


def test_rate_caps_stack_every_convention_on_each_commune() -> None:
    marts = good_marts()
    caps = frames.rate_caps(
        marts["mart_flux_perimetre"],
        marts["mart_bilan_reservataire"],
        _communes(),
        etat=["ETAT_PRIORITAIRES", "ETAT_FONCTIONNAIRES"],
        etat_agents=["ETAT_FONCTIONNAIRES"],
    )
    # A: ALS 20 % on Paris + PREF 25 % on the 12th arrondissement, which counts as Paris.
    assert caps.rows() == [
        (A, ANNEE, "75", 45.0, 25.0, 0.0, "75056"),
        (B, ANNEE, "93", 45.0, 25.0, 0.0, "93066"),
    ]


def _communes() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "commune_insee": ["75056", "75112", "93066", "93001"],
            "departement": ["75", "75", "93", "93"],
            "epci_siren": ["200054781"] * 4,
            "ept_siren": [None, None, "200057867", "200057867"],
            "commune_parent": ["75056", "75056", "93066", "93001"],
        }
    )


def test_destinations_add_up_to_the_flux_brut() -> None:
    marts = good_marts()
    rec = frames.destinations_reconciliation(marts["mart_flux"], marts["fct_tours"])
    assert rec.select(
        "vers_reservataires", "vers_bailleur", "hors_flux", "ecart_destinations"
    ).rows() == [
        (2, 0, 1, 0),
        (2, 0, 1, 0),
    ]


def test_tour_chronology_flags_gaps_and_tours_after_the_attribution() -> None:
    tours = good_marts()["fct_tours"]
    extra = (
        _bailleur(tours, B)
        .filter(pl.col("logement_id") == "L1")
        .with_columns(
            pl.lit(3, dtype=pl.Int64).alias("numero_tour"),
            pl.lit(date(2024, 2, 15)).alias("date_orientation"),
        )
    )
    chrono = frames.tour_chronology(pl.concat([tours, extra]))
    l1 = chrono.filter((pl.col("bailleur_siren") == B) & (pl.col("logement_id") == "L1")).row(
        0, named=True
    )
    assert (l1["rangs_continus"], l1["nb_attribues"], l1["tours_apres_attribution"]) == (
        False,
        2,
        1,
    )
    assert l1["orientations_avant_issue_precedente"] == 1
    assert _bailleur(chrono, A)["rangs_continus"].all()
