"""Each suite of expectations/ passes on the good campaign and fails on a crafted bad mart,
pinning the failure on the bailleur whose rows are wrong (the real GX runs on the frames)."""

from __future__ import annotations

import json
from collections.abc import Callable

import polars as pl
import pytest

from dagster_project.quality import frames
from dagster_project.quality.checks import CHECKS, CHECKS_BY_NAME, run_check
from dagster_project.quality.outcomes import summarize
from dagster_project.quality.suites import GRAVITES, SuiteError, load_suite, parse_suite
from dagster_project.settings import EXPECTATIONS_DIR
from test_quality_campaign import A, ANNEE, B, good_marts

Marts = dict[str, pl.DataFrame]


def _edit(mart: str, where: pl.Expr, **values: object) -> Callable[[Marts], Marts]:
    """Set ``values`` on the rows of bailleur B of ``mart`` matching ``where``."""

    def apply(marts: Marts) -> Marts:
        frame = marts[mart]
        target = (pl.col("bailleur_siren") == B) & where
        marts[mart] = frame.with_columns(
            pl.when(target).then(pl.lit(v, dtype=frame.schema[c])).otherwise(pl.col(c)).alias(c)
            for c, v in values.items()
        )
        return marts

    return apply


def _drop(mart: str, where: pl.Expr) -> Callable[[Marts], Marts]:
    def apply(marts: Marts) -> Marts:
        marts[mart] = marts[mart].filter(~((pl.col("bailleur_siren") == B) & where))
        return marts

    return apply


def _duplicate(mart: str) -> Callable[[Marts], Marts]:
    def apply(marts: Marts) -> Marts:
        frame = marts[mart]
        marts[mart] = pl.concat([frame, frame.filter(pl.col("bailleur_siren") == B).head(1)])
        return marts

    return apply


def _personal_column(marts: Marts) -> Marts:
    marts["_colonnes"] = pl.concat(
        [marts["_colonnes"], frames.column_inventory({"mart_bilan_reservataire": ["nom_candidat"]})]
    )
    return marts


code, dim, kind = pl.col("reservataire_code"), pl.col("dimension"), pl.col("destination_type")
logement, rang = pl.col("logement_id"), pl.col("numero_tour")

# (check, suite, corruption of bailleur B, expectation that must fail, gravité)
BAD = [
    (
        "qualite_fct_tours",
        "fct_tours",
        _edit("fct_tours", logement == "L3", categorie_operation=None),
        "expect_column_values_to_not_be_null(categorie_operation)",
        "ERREUR",
    ),
    (
        "qualite_fct_tours",
        "fct_tours",
        _edit("fct_tours", (logement == "L1") & (code == "ALS"), convention_perimetre_code=None),
        "expect_column_values_to_not_be_null(convention_perimetre_code)",
        "ERREUR",
    ),
    (
        "qualite_fct_tours",
        "chronologie_tours",
        _edit("fct_tours", (logement == "L2") & (rang == 2), numero_tour=3),
        "expect_column_values_to_be_in_set(rangs_continus)",
        "ERREUR",
    ),
    (
        "qualite_mart_flux",
        "mart_flux",
        _edit("mart_flux", pl.lit(True), departement="60"),
        "expect_column_values_to_be_in_set(departement)",
        "ERREUR",
    ),
    (
        "qualite_mart_flux",
        "mart_flux",
        _duplicate("mart_flux"),
        "expect_compound_columns_to_be_unique(bailleur_siren, annee, departement)",
        "ERREUR",
    ),
    (
        "qualite_mart_flux",
        "reconciliation_destinations",
        _edit("mart_flux", pl.lit(True), flux_brut=4, flux_net=3),
        "expect_column_values_to_be_between(ecart_destinations)",
        "ERREUR",
    ),
    (
        "qualite_mart_flux_perimetre",
        "mart_flux_perimetre",
        _edit("mart_flux_perimetre", code == "ALS", taux_flux=120.0),
        "expect_column_values_to_be_between(taux_flux)",
        "ERREUR",
    ),
    (
        "qualite_mart_flux_perimetre",
        "plafonds_taux",
        _edit("mart_flux_perimetre", code == "ALS", taux_flux=80.0),
        "expect_column_values_to_be_between(taux_total)",
        "ERREUR",
    ),
    (
        "qualite_mart_flux_perimetre",
        "plafonds_taux",
        _edit("mart_flux_perimetre", code == "PREF", taux_flux=35.0),
        "expect_column_values_to_be_between(taux_etat)",
        "AVERTISSEMENT",
    ),
    (
        "qualite_mart_bilan_reservataire",
        "mart_bilan_reservataire",
        _edit("mart_bilan_reservataire", code == "ALS", reservataire_id=None),
        "expect_column_values_to_not_be_null(reservataire_id)",
        "ERREUR",
    ),
    (
        "qualite_mart_bilan_ventilation",
        "mart_bilan_ventilation",
        _edit("mart_bilan_ventilation", dim == "commune", valeur="60001"),
        "expect_column_values_to_be_in_set(valeur)",
        "ERREUR",
    ),
    (
        "qualite_mart_bilan_ventilation",
        "mart_bilan_ventilation",
        _edit("mart_bilan_ventilation", dim == "qpv", valeur="NON_RENSEIGNE"),
        "expect_column_values_to_not_be_in_set(valeur)",
        "AVERTISSEMENT",
    ),
    (
        "qualite_mart_bilan_ventilation",
        "reconciliation_ventilations",
        _drop("mart_bilan_ventilation", (dim == "typologie") & (code == "ALS")),
        "expect_column_values_to_be_in_set(dimension_absente)",
        "ERREUR",
    ),
    (
        "qualite_mart_bilan_ventilation",
        "reconciliation_ventilations",
        _edit("mart_bilan_ventilation", (dim == "financement") & (code == "ALS"), proposes=1),
        "expect_column_values_to_be_between(ecart_proposes)",
        "ERREUR",
    ),
    (
        "qualite_mart_bilan_ventilation",
        "coherence_attributions",
        _edit("mart_bilan_ventilation", (dim == "qpv") & (code == "ALS"), attribues=3),
        "expect_column_values_to_be_between(marge)",
        "ERREUR",
    ),
    (
        "qualite_mart_territoire_ventilation",
        "reconciliation_ventilations",
        _edit("mart_territoire_ventilation", dim == "qpv", attribues=1),
        "expect_column_values_to_be_between(ecart_attribues)",
        "ERREUR",
    ),
    (
        "qualite_mart_bilan_territoire",
        "mart_bilan_territoire",
        _edit("mart_bilan_territoire", pl.lit(True), attribues_hors_qpv=5),
        "expect_column_pair_values_a_to_be_greater_than_b(attribues, attribues_hors_qpv)",
        "ERREUR",
    ),
]


def _run(check: str, marts: Marts):
    return run_check(CHECKS_BY_NAME[check], lambda: marts, run_id="test")


def test_every_suite_file_is_used_and_documented() -> None:
    used = {v.suite for spec in CHECKS for v in spec.validations}
    assert used == {p.stem for p in EXPECTATIONS_DIR.glob("*.json")}
    for name in used:
        raw = json.loads((EXPECTATIONS_DIR / f"{name}.json").read_text(encoding="utf-8"))
        assert raw["name"] == name
        for expectation in load_suite(name).expectations:
            assert (
                expectation.regle.startswith("§6.")
                and expectation.gravite in GRAVITES
                and expectation.note
            )


@pytest.mark.parametrize("spec", CHECKS, ids=lambda s: s.name)
def test_every_check_passes_on_the_good_campaign(spec) -> None:
    outcomes = _run(spec.name, good_marts())
    failed = outcomes.filter(~pl.col("succes"))
    assert failed.is_empty(), failed.select(
        "suite", "expectation", "bailleur_siren", "exemples"
    ).rows()
    if spec.name != "donnees_personnelles":  # per-bailleur frames: both bailleurs evaluated
        assert set(outcomes["bailleur_siren"]) == {A, B}


@pytest.mark.parametrize(
    ("check", "suite", "corrupt", "expectation", "gravite"),
    BAD,
    ids=[f"{b[1]}-{b[3]}" for b in BAD],
)
def test_a_bad_mart_fails_its_suite_for_that_bailleur_only(
    check, suite, corrupt, expectation, gravite
) -> None:
    outcomes = _run(check, corrupt(good_marts()))
    failed = outcomes.filter(~pl.col("succes"))
    assert set(failed["bailleur_siren"]) == {B}
    assert set(failed["annee"]) == {ANNEE}
    mine = failed.filter(
        (pl.col("suite") == suite) & (pl.col("expectation").str.starts_with(expectation))
    )
    assert mine.height == 1, failed.select("suite", "expectation").rows()
    row = mine.row(0, named=True)
    assert row["gravite"] == gravite and row["nb_lignes_en_echec"] >= 1 and row["exemples"]
    summary = summarize(outcomes)
    assert summary.bailleurs_bloques == ([f"{B}/{ANNEE}"] if gravite == "ERREUR" else [])
    assert not summary.global_error


def test_a_personal_data_column_fails_for_everyone() -> None:
    outcomes = _run("donnees_personnelles", _personal_column(good_marts()))
    failed = outcomes.filter(~pl.col("succes")).row(0, named=True)
    assert failed["bailleur_siren"] is None and failed["nb_lignes_en_echec"] == 1
    assert "colonne=nom_candidat" in failed["exemples"]
    assert summarize(outcomes).global_error


def test_a_suite_without_its_french_meta_is_refused() -> None:
    with pytest.raises(SuiteError, match="meta incomplet, il manque gravite, note"):
        parse_suite(
            {
                "name": "s",
                "expectations": [
                    {
                        "type": "expect_column_values_to_not_be_null",
                        "kwargs": {"column": "x"},
                        "meta": {"regle": "§6.1"},
                    }
                ],
            }
        )


def test_a_missing_column_makes_the_check_fail_globally() -> None:
    marts = good_marts()
    marts["mart_flux"] = marts["mart_flux"].drop("soustraits")
    summary = summarize(_run("qualite_mart_flux", marts))
    assert summary.global_error and not summary.passed
