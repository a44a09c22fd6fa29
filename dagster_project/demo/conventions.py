"""Conventions de réservation of one bailleur, per département of its territory.

Rates are drawn so that, for every commune, the conventions covering it (département-wide ones,
its commune's, its EPCI/EPT's) sum to at most 100 %, with the State at 25 % + 5 % (R441-5-2).
"""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl

from dagster_project.demo.model import Bailleur, luhn_complete
from dagster_project.reference import load_seed

ACTION_LOGEMENT = ("ALS", "Action Logement Services", "824541148")
REGION = ("RIF", "Région Île-de-France", "237500079")
EMPLOYEURS = [  # AUTRE: employers with reservation rights
    ("APHP", "Assistance Publique – Hôpitaux de Paris", "267500452"),
    ("RATP", "Régie autonome des transports parisiens", "775663438"),
    ("POSTE", "La Poste", "356000000"),
    ("EDF", "Électricité de France", "552081317"),
]
TAUX_TERRITOIRE = (5.0, 7.5)  # EPCI / EPT conventions
METROPOLE_GRAND_PARIS = "200054781"
SCHEMA = {
    "reservataire_code": pl.String, "reservataire_nom": pl.String,
    "reservataire_categorie": pl.String, "reservataire_siren": pl.String,
    "perimetre_type": pl.String, "perimetre_code": pl.String, "taux_flux": pl.Float64,
    "reprise_imputee": pl.Boolean, "date_effet": pl.Date, "date_fin": pl.Date, "email": pl.String,
}


def ville(nom: str) -> str:
    """« Ville de Paris », « Ville d'Évry », « Ville du Blanc-Mesnil », « Ville des Lilas »."""
    for article, contraction in (("Le ", "du "), ("Les ", "des ")):
        if nom.startswith(article):
            return f"Ville {contraction}{nom.removeprefix(article)}"
    return f"Ville d'{nom}" if nom[0] in "AEIOUYÉÈÎ" else f"Ville de {nom}"


def _territoires() -> dict[str, str]:
    """EPCI / EPT SIREN → name."""
    ept = load_seed("ref_ept").select(siren="ept_siren", nom="ept_nom")
    epci = load_seed("ref_epci").select(siren="epci_siren", nom="epci_nom")
    return dict(pl.concat([ept, epci]).iter_rows())


def _local_perimeters(logements: pl.DataFrame, dep: str, rng: np.random.Generator):
    """The bailleur's main communes and main EPCI/EPT in ``dep``, by number of dwellings."""
    here = logements.filter(pl.col("departement") == dep)
    by_commune = (here.group_by("commune_parent").len()
                  .sort(["len", "commune_parent"], descending=[True, False]))
    n_communes = min(8, max(1, round(0.3 * by_commune.height)))
    communes = [c for c in by_commune["commune_parent"].head(n_communes) if rng.random() < 0.8]
    if dep == "75":
        communes = ["75056"]  # the Ville de Paris always reserves
    territory = (here.with_columns(
        perimetre_type=pl.when(pl.col("ept_siren").is_not_null()).then(pl.lit("EPT"))
        .when(pl.col("epci_siren") != METROPOLE_GRAND_PARIS).then(pl.lit("EPCI")),
        perimetre_code=pl.coalesce("ept_siren", "epci_siren"))
        .drop_nulls("perimetre_type")
        .group_by("perimetre_type", "perimetre_code").len()
        .sort(["len", "perimetre_code"], descending=[True, False]).head(1))
    return communes, list(territory.select("perimetre_type", "perimetre_code").iter_rows())


def generate_conventions(b: Bailleur, logements: pl.DataFrame, annee: int,
                         rng: np.random.Generator) -> pl.DataFrame:
    noms_communes = dict(
        load_seed("ref_communes").select("commune_insee", "commune_nom").iter_rows())
    noms_territoires = _territoires()
    employeur = EMPLOYEURS[int(rng.integers(len(EMPLOYEURS)))] if rng.random() < 0.35 else None
    with_region = rng.random() < 0.5
    state = (25.0, 5.0) if rng.random() < 0.8 else (22.5, 5.0)
    date_effet = [date(annee - 1, 1, 1), date(2023, 11, 24), date(annee, 1, 1)][b.index % 3]
    rows, seen = [], set()

    def add(code, nom, categorie, siren, ptype, pcode, taux):
        rows.append((code, nom, categorie, siren, ptype, pcode, float(taux),
                     bool(rng.random() < 0.85), date_effet, None))

    for dep in b.departements:
        add(f"PREF{dep}", f"Préfet {dep} — contingent prioritaire", "ETAT_PRIORITAIRES", None,
            "DEPARTEMENT", dep, state[0])
        add(f"FONC{dep}", f"Préfet {dep} — agents de l'État", "ETAT_FONCTIONNAIRES", None,
            "DEPARTEMENT", dep, state[1])
        total = sum(state)
        shares = [(ACTION_LOGEMENT, "ACTION_LOGEMENT", rng.choice([20, 25, 27.5, 30, 35]))]
        if dep != "75":  # Paris is both commune and département: the Ville reserves
            shares.append(((f"CD{dep}", f"Conseil départemental {dep}",
                            luhn_complete(f"2{dep}00000")), "DEPARTEMENT", rng.choice([3, 5, 7.5])))
        if with_region:
            shares.append((REGION, "REGION", rng.choice([2, 3, 5])))
        if employeur:
            shares.append((employeur, "AUTRE", rng.choice([1.5, 2, 2.5])))
        for (code, nom, siren), categorie, taux in shares:
            add(code, nom, categorie, siren, "DEPARTEMENT", dep, taux)
            total += taux
        communes, territories = _local_perimeters(logements, dep, rng)
        # half of the bailleurs × départements have an EPCI/EPT convention; an EPCI spanning
        # two départements (CA Roissy Pays de France) gets one convention only
        territories = [t for t in territories if t not in seen and rng.random() < 0.5]
        seen.update(territories)
        t_taux = float(rng.choice(TAUX_TERRITOIRE)) if territories else 0.0
        for ptype, siren in territories:
            add(f"{ptype}{siren}", noms_territoires.get(siren, f"{ptype} {siren}"), "EPCI_EPT",
                siren, ptype, siren, t_taux)
        # room is kept for an EPCI convention signed in another département of the EPCI
        c_taux = min(float(rng.choice([10, 15, 20])), 100 - total - max(TAUX_TERRITOIRE))
        for insee in communes if c_taux >= 5 else []:
            add(f"VILLE{insee}", ville(noms_communes[insee]), "COMMUNE",
                luhn_complete(f"21{insee}0"), "COMMUNE", insee, c_taux)
    emails = {code: f"contact@{code.lower()}.example.fr" for code in sorted({r[0] for r in rows})
              if rng.random() < 0.5}
    return pl.DataFrame([(*r, emails.get(r[0])) for r in rows], schema=SCHEMA, orient="row")


def coverage(logements: pl.DataFrame, conventions: pl.DataFrame) -> pl.DataFrame:
    """(commune_parent, reservataire_code, taux_flux) for every convention covering a commune."""
    places = logements.select("commune_parent", "departement", "epci_siren", "ept_siren").unique(
        maintain_order=True)
    keys = {"DEPARTEMENT": "departement", "COMMUNE": "commune_parent", "EPCI": "epci_siren",
            "EPT": "ept_siren"}
    parts = [
        places.join(conventions.filter(pl.col("perimetre_type") == ptype),
                    left_on=key, right_on="perimetre_code")
        .select("commune_parent", "reservataire_code", "taux_flux")
        for ptype, key in keys.items()
    ]
    return pl.concat(parts).sort("commune_parent", "reservataire_code")
