"""Report models: pure functions from mart rows to tables (no Excel involved)."""

from __future__ import annotations

from dataclasses import replace

import polars as pl
import pytest
from trames_synthetic import synthetic_marts

from dagster_project.marts import BAILLEUR_MARTS
from dagster_project.trames import regional, reservataire, territoire
from dagster_project.trames.campaign import _unique_paths
from dagster_project.trames.common import safe_stem
from dagster_project.trames.loader import REGIONAL_MARTS, BailleurMarts
from dagster_project.trames.tables import breakdown_table, round_half_up, soustraits_table


def _cells(*rows) -> list[dict]:
    columns = ("dimension", "valeur", "libelle", "ordre", "proposes", "attribues")
    return [dict(zip(columns, row, strict=True)) for row in rows]


def test_droit_is_rounded_half_up():
    assert [round_half_up(x) for x in (22.2, 22.5, 23.5, 0.49)] == [22, 23, 24, 0]
    assert round_half_up(None) is None


def test_breakdown_shows_every_category_and_non_renseigne_last():
    table = breakdown_table(
        "typologie",
        "Typologie",
        _cells(
            ("typologie", "NON_RENSEIGNE", "non renseigné", 99, 1, 0),
            ("typologie", "T3", "T3", 3, 3, 2),
        ),
    )
    assert [r[:3] for r in table.rows] == [
        ("T1", 0, 0),
        ("T2", 0, 0),
        ("T3", 3, 2),
        ("T4", 0, 0),
        ("T5 et +", 0, 0),
        ("non renseigné", 1, 0),
    ]
    assert table.total == ("Total", 4, 2, 1.0, 1.0)
    assert table.rows[2][3] == pytest.approx(0.75)
    assert table.chart is not None


def test_commune_breakdown_keeps_the_insee_code_and_names_the_commune():
    table = breakdown_table("commune", "Commune", _cells(("commune", "93066", "93066", 1, 2, 1)))
    assert table.rows == (("Saint-Denis", 2, 1, 1.0, 1.0, "93066"),)
    assert [c.header for c in table.columns][::5] == ["Commune", "Code INSEE"]
    assert table.chart is None


def test_soustraits_table_lists_every_categorie_d_operation():
    soustraits = pl.DataFrame(
        {
            "departement": ["93"],
            "categorie_operation": ["VENTE_HLM"],
            "soustraits": [4],
            "attributions_relogement": [1],
        }
    )
    table = soustraits_table(soustraits, ["93"])
    assert len(table.rows) == 6
    assert table.total == ("Total", "", 4, 1)


def test_file_names_from_bailleur_codes_cannot_escape_their_folder():
    assert safe_stem("../../etc/passwd") == "etc_passwd"
    assert safe_stem("Ville de Paris") == "Ville_de_Paris"
    assert safe_stem("///") == "sans_code"


@pytest.fixture(scope="module")
def bailleur() -> BailleurMarts:
    marts = synthetic_marts(1, seed=5)
    # as the loader does, a mart the synthetic campaign lacks (the across-years ones) is empty
    frames = {name: marts.get(name, pl.DataFrame()) for name in BAILLEUR_MARTS}
    return BailleurMarts(siren=marts["mart_flux"]["bailleur_siren"][0], annee=2024, frames=frames)


def _perturb(b: BailleurMarts, keep: pl.Expr) -> BailleurMarts:
    """Every count of every row not matching ``keep`` changed."""
    frames = {}
    for name, frame in b.frames.items():
        counts = [
            c for c, t in frame.schema.items() if t.is_integer() and c != "annee" and c != "ordre"
        ]
        if not counts or not set(keep.meta.root_names()) <= set(frame.columns):
            frames[name] = frame
            continue
        frames[name] = frame.with_columns(
            pl.when(keep).then(pl.col(c)).otherwise(pl.col(c) + 7).alias(c) for c in counts
        )
    return replace(b, frames=frames)


def test_reservataire_report_depends_only_on_its_own_rows(bailleur):
    recipient = {
        "recipient_code": "ALS",
        "recipient_nom": "Action Logement Services",
        "departement": None,
        "email": None,
    }
    before = reservataire.build(bailleur, recipient)
    mine = pl.col("reservataire_code") == "ALS"
    assert reservataire.build(_perturb(bailleur, mine), recipient).fingerprint == before.fingerprint
    assert (
        reservataire.build(_perturb(bailleur, ~mine), recipient).fingerprint != before.fingerprint
    )


def test_territory_report_depends_only_on_its_territory(bailleur):
    code = bailleur["mart_recipients"].filter(pl.col("kind") == "EPCI_EPT")["recipient_code"][0]
    recipient = {"recipient_code": code, "recipient_nom": None, "email": None}
    before = territoire.build(bailleur, recipient)
    mine = pl.col("territoire_code") == code
    assert territoire.build(_perturb(bailleur, mine), recipient).fingerprint == before.fingerprint
    assert territoire.build(_perturb(bailleur, ~mine), recipient).fingerprint != before.fingerprint


def test_report_counts_its_figures_and_paths_stay_unique(bailleur):
    report = reservataire.build(bailleur, {"recipient_code": "ALS"})
    assert report.nb_figures > 50
    twins = _unique_paths([report, report, report])
    assert [r.relpath.rsplit("/", 1)[1] for r in twins] == ["ALS.xlsx", "ALS-2.xlsx", "ALS-3.xlsx"]


def test_regional_reports_survive_unpublished_regional_marts(bailleur):
    reports = regional.build_all(2024, {n: pl.DataFrame() for n in REGIONAL_MARTS}, [bailleur], {})
    assert [r.relpath for r in reports] == ["regional/synthese_regionale.xlsx"]
    assert reports[0].sheets[0].tables[0].rows == ()
