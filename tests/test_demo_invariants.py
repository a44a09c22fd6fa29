"""The demo campaign obeys the domain's data-quality rules and looks like a real campaign."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from dagster_project.demo import SCALES, build_campaign
from dagster_project.demo.conventions import coverage
from dagster_project.demo.model import Forme, luhn_complete, plan_bailleurs

ANNEE = 2024


@pytest.fixture(scope="module")
def campagne():
    """The demo campaign in memory, all bailleurs stacked (key: bailleur_siren)."""
    sheets: dict[str, list[pl.DataFrame]] = {"logements": [], "tours": [], "conventions": [],
                                             "previsionnel": [], "couverture": []}
    for d in build_campaign(SCALES["demo"], seed=11, annee=ANNEE):
        siren = pl.lit(d.bailleur.siren).alias("bailleur_siren")
        for name, df in [("logements", d.logements), ("tours", d.tours),
                         ("conventions", d.conventions), ("previsionnel", d.previsionnel),
                         ("couverture", coverage(d.logements, d.conventions))]:
            sheets[name].append(df.with_columns(siren))
    return {name: pl.concat(dfs) for name, dfs in sheets.items()}


@pytest.fixture(scope="module")
def tours(campagne):
    """Tours with their previous tour's outcome and their dwelling's commune."""
    key = ["bailleur_siren", "logement_id"]
    return (campagne["tours"].sort(*key, "numero_tour")
            .with_columns(prev_issue=pl.col("issue").shift(1).over(key),
                          prev_date=pl.col("date_issue").shift(1).over(key),
                          prev_dest=pl.col("destinataire").shift(1).over(key),
                          k=pl.len().over(key))
            .join(campagne["logements"].select(*key, "commune_parent", "departement"),
                  on=key, how="left"))


def test_rates_cover_each_commune_at_most_once_in_full_and_respect_state_caps(campagne):
    per_commune = campagne["couverture"].group_by("bailleur_siren", "commune_parent").agg(
        pl.col("taux_flux").sum())
    assert per_commune["taux_flux"].max() <= 100
    state = (campagne["conventions"]
             .group_by("bailleur_siren", "perimetre_code", "reservataire_categorie")
             .agg(pl.col("taux_flux").sum()))
    etat = state.filter(pl.col("reservataire_categorie").str.starts_with("ETAT_"))
    assert etat.group_by("bailleur_siren", "perimetre_code").agg(pl.col("taux_flux").sum())[
        "taux_flux"].max() <= 30
    assert etat.filter(pl.col("reservataire_categorie") == "ETAT_FONCTIONNAIRES")[
        "taux_flux"].max() <= 5
    assert campagne["conventions"]["taux_flux"].min() > 0


def test_conventions_are_well_formed(campagne):
    c = campagne["conventions"]
    assert c.select("bailleur_siren", "reservataire_code", "perimetre_type",
                    "perimetre_code").is_duplicated().sum() == 0
    etat = c["reservataire_categorie"].str.starts_with("ETAT_")
    assert c.filter(etat)["reservataire_siren"].is_null().all()
    sirens = c.filter(~etat)["reservataire_siren"]
    assert sirens.str.contains(r"^\d{9}$").all()
    als = c.filter(pl.col("reservataire_categorie") == "ACTION_LOGEMENT")
    assert set(als["reservataire_code"]) == {"ALS"} and set(als["reservataire_siren"]) == {
        "824541148"}
    # one SIREN per code across bailleurs: a réservataire is the same everywhere
    assert c.filter(~etat).group_by("reservataire_code").agg(
        pl.col("reservataire_siren").n_unique())["reservataire_siren"].max() == 1
    assert set(c["perimetre_type"]) >= {"DEPARTEMENT", "COMMUNE", "EPT"}
    assert set(c["reservataire_categorie"]) >= {
        "ETAT_PRIORITAIRES", "ETAT_FONCTIONNAIRES", "ACTION_LOGEMENT", "DEPARTEMENT", "COMMUNE",
        "EPCI_EPT"}
    assert 0 < c["email"].is_null().sum() < c.height
    assert 0 < (~c["reprise_imputee"]).sum() < c.height / 2


def test_ranks_have_no_gaps_and_nothing_follows_an_attribution(tours):
    per = tours.group_by("bailleur_siren", "logement_id").agg(
        pl.col("numero_tour").min().alias("lo"), pl.col("numero_tour").max().alias("hi"),
        pl.len().alias("n"), (pl.col("issue") == "ATTRIBUE").sum().alias("attrib"))
    assert (per["lo"] == 1).all() and (per["hi"] == per["n"]).all()
    assert per["attrib"].max() == 1
    # attribué and en cours end a vacancy
    ends = tours.filter(pl.col("issue").is_in(["ATTRIBUE", "EN_COURS"]))
    assert (ends["numero_tour"] == ends["k"]).all()


def test_hors_flux_iff_categorie(tours):
    hf = tours["destinataire"] == "HORS_FLUX"
    assert (hf == tours["categorie_operation"].is_not_null()).all()


def test_dates_are_in_order_and_in_the_year(tours):
    assert (tours["date_issue"].is_null() == (tours["issue"] == "EN_COURS")).all()
    done = tours.filter(pl.col("date_issue").is_not_null())
    assert (done["date_orientation"] <= done["date_issue"]).all()
    assert (done["date_issue"] <= date(ANNEE, 12, 31)).all()
    later = tours.filter(pl.col("numero_tour") > 1)
    assert (later["date_orientation"] > later["prev_date"]).all()
    assert tours["date_orientation"].min() >= date(ANNEE - 1, 12, 1)
    assert (tours["date_bail"].drop_nulls() > tours.filter(pl.col("date_bail").is_not_null())[
        "date_issue"]).all()
    # every reported vacancy has an event in year N
    last = tours.group_by("bailleur_siren", "logement_id").agg(
        pl.max_horizontal(pl.col("date_orientation").max(), pl.col("date_issue").max()))
    assert (last.to_series(2) >= date(ANNEE, 1, 1)).all()


def test_every_tour_references_a_dwelling_and_a_covering_convention(campagne, tours):
    assert tours["commune_parent"].null_count() == 0  # the dwelling exists
    assert campagne["logements"].select("bailleur_siren", "logement_id").is_duplicated().sum() == 0
    to_res = tours.filter(~pl.col("destinataire").is_in(["BAILLEUR", "HORS_FLUX"]))
    covered = to_res.join(campagne["couverture"], how="semi",
                          left_on=["bailleur_siren", "commune_parent", "destinataire"],
                          right_on=["bailleur_siren", "commune_parent", "reservataire_code"])
    assert covered.height == to_res.height > 0


def test_previsionnel_covers_each_departement_and_category(campagne):
    p = campagne["previsionnel"]
    assert p["nb_logements_prevus"].dtype == pl.Int64 and p["nb_logements_prevus"].min() >= 0
    deps = campagne["logements"].group_by("bailleur_siren").agg(pl.col("departement").n_unique())
    assert p.height == 6 * deps["departement"].sum()


def test_campaign_looks_like_a_real_one(campagne, tours):
    lg = campagne["logements"]
    typo = lg["nb_pieces"].clip(1, 5).value_counts(normalize=True).sort("nb_pieces")
    assert typo["proportion"].to_list() == pytest.approx([0.12, 0.25, 0.33, 0.22, 0.08], abs=0.02)
    qpv = lg.group_by("departement").agg(pl.col("qpv").mean())
    qpv = dict(qpv.iter_rows())
    assert 0.22 <= qpv["93"] <= 0.4 and max(v for d, v in qpv.items() if d != "93") < qpv["93"]
    assert lg.filter("qpv")["qpv_code"].str.contains(r"^QN0\d{4}M$").all()
    assert lg.filter(~pl.col("qpv"))["qpv_code"].is_null().all()
    paris = lg.filter(pl.col("departement") == "75")["commune_insee"]
    assert (paris == "75056").any() and paris.str.starts_with("751").any()
    assert set(lg["hors_assiette"].drop_nulls()) == {"FOYER", "DEFENSE"}
    assert lg["financement"].is_in(["HLMO", "PLUS", "PLAI"]).any()  # labels beside codes
    years = lg["annee_construction"]
    assert years.min() >= 1900 and years.max() == ANNEE
    assert 0.4 < ((years >= 1960) & (years <= 1980)).mean() < 0.6

    first = tours.filter(pl.col("numero_tour") == 1)
    assert 0.65 < (first["issue"] == "ATTRIBUE").mean() < 0.85
    assert 0.07 < (first["destinataire"] == "HORS_FLUX").mean() < 0.13
    vacances = first.height / lg.height
    assert 0.05 < vacances < 0.08
    assert tours["issue"].n_unique() == 6 and tours["numero_tour"].max() >= 3
    report = tours.filter((pl.col("date_orientation") < date(ANNEE, 1, 1))
                          & (pl.col("issue") == "ATTRIBUE"))
    assert report.height > 0
    reprises = tours.filter((pl.col("prev_issue") == "ECHEC_CARENCE")
                            & ~pl.col("prev_dest").is_in(["BAILLEUR", "HORS_FLUX"]))
    assert (reprises["destinataire"] == "BAILLEUR").mean() > 0.5
    assert set(tours["origine"]) == {"RELOCATION", "MISE_EN_SERVICE"}


@pytest.mark.parametrize("name", ["demo", "idf", "idf2", "fr"])
def test_scales_give_the_announced_sizes(name):
    scale = SCALES[name]
    bailleurs = plan_bailleurs(scale, seed=3)
    sizes = [b.nb_logements for b in bailleurs]
    assert len(bailleurs) == scale.nb_bailleurs
    assert sum(sizes) == pytest.approx(scale.nb_logements, rel=0.02)
    assert len({b.siren for b in bailleurs}) == len(bailleurs)
    assert all(luhn_complete(b.siren[:8]) == b.siren for b in bailleurs)
    grands = bailleurs[: scale.nb_grands]
    lo, hi = scale.taille_grands
    assert all(lo <= b.nb_logements <= hi for b in grands)
    assert max(b.nb_logements for b in bailleurs[scale.nb_grands:]) < lo
    assert all(b.nb_logements <= scale.max_lignes_xlsx for b in bailleurs if b.forme is Forme.XLSX)
    assert {b.forme for b in bailleurs} == set(Forme)
    if name == "idf2":
        assert sum(sizes) == pytest.approx(2 * SCALES["idf"].nb_logements, rel=0.02)
