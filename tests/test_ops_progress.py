"""Progress lines of a campaign run, from real Dagster events."""

from __future__ import annotations

import dagster as dg

from dagster_project.defs.automation.progress import describe, stage_label


def test_step_keys_name_their_stage():
    assert stage_label("raw_ingestion") == "ingestion des fichiers"
    assert stage_label("flux_dbt") == "modèles dbt et tests"
    assert stage_label("mart_recipients_donnees_personnelles") == "contrôles qualité"
    assert stage_label("mart_flux_qualite_mart_flux") == "contrôles qualité"
    assert stage_label("published_marts") == "publication des marts"
    assert stage_label("trames") == "écriture des trames"
    assert stage_label("campaign_summary") == "résumé de campagne"


@dg.asset(check_specs=[dg.AssetCheckSpec(name, asset="mart_essai")
                        for name in ("positif", "complet", "unique")])
def mart_essai():
    yield dg.MaterializeResult(metadata={"dagster/row_count": 12})
    yield dg.AssetCheckResult(check_name="positif", passed=False)
    yield dg.AssetCheckResult(check_name="complet", passed=False,
                              severity=dg.AssetCheckSeverity.WARN)
    yield dg.AssetCheckResult(check_name="unique", passed=True)


def progress_lines(asset: dg.AssetsDefinition) -> list[str]:
    with dg.instance_for_test() as instance:
        result = dg.materialize([asset], instance=instance, raise_on_error=False)
    return [line for e in result.all_events if (line := describe(e))]


def test_events_become_french_progress_lines():
    lines = progress_lines(mart_essai)
    assert lines == [
        "▶ étape [mart_essai]",
        "    ✓ mart_essai (12 lignes)",
        "    ✗ contrôle en échec (erreur) : mart_essai / positif",
        "    ✗ contrôle en échec (avertissement) : mart_essai / complet",
        "  terminé : étape",
    ]


@dg.asset
def mart_en_panne():
    raise ValueError("colonne « droit » absente")


def test_a_failed_step_shows_the_root_cause():
    assert progress_lines(mart_en_panne)[-1] == (
        "  ✗ ÉCHEC de l'étape mart_en_panne : ValueError: colonne « droit » absente")
