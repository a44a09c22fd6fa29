"""Progress lines of a campaign run, from real Dagster events."""

from __future__ import annotations

import re

import dagster as dg

from dagster_project.defs.automation.progress import (
    TRAMES_DONE,
    TRAMES_TOTAL,
    StageTracker,
    stage_label,
)


def test_step_keys_name_their_stage_in_french():
    assert stage_label("raw_ingestion") == "ingestion des fichiers"
    assert stage_label("flux_dbt") == "modèles dbt et tests"
    assert stage_label("flux_dbt_regional") == "consolidations régionales (dbt)"
    assert stage_label("mart_recipients_donnees_personnelles") == "contrôles qualité"
    assert stage_label("mart_flux_qualite_mart_flux") == "contrôles qualité"
    assert stage_label("statut_bailleurs") == "statut des bailleurs"
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


@dg.asset(deps=[mart_essai])
def trames(context):
    for done in (1, 2):
        context.log_event(dg.AssetObservation(
            asset_key="trames", metadata={TRAMES_DONE: done, TRAMES_TOTAL: 2}))


def progress_lines(*assets: dg.AssetsDefinition) -> list[str]:
    with dg.instance_for_test() as instance:
        result = dg.materialize(list(assets), instance=instance, raise_on_error=False)
        records = instance.get_records_for_run(result.run_id).records
    tracker = StageTracker(lambda: ["    bailleur 1 : complet"], lambda pool: "tenu par x")
    lines = []
    for record in records:
        entry = record.event_log_entry
        if entry.dagster_event is not None:
            lines += tracker.lines(entry.dagster_event, entry.timestamp)
    return [re.sub(r"\(\d+,\d s\)", "(… s)", line) for line in lines]


def test_events_become_french_stage_lines_with_durations_and_trames_progress():
    assert progress_lines(mart_essai, trames) == [
        "▶ étape",
        "    ✗ contrôle en échec (erreur) : mart_essai / positif",
        "    ✗ contrôle en échec (avertissement) : mart_essai / complet",
        "  terminé : étape (… s)",
        "▶ écriture des trames",
        "    trames : 1 / 2",
        "    trames : 2 / 2",
        "  terminé : écriture des trames (… s)",
    ]


@dg.asset
def mart_en_panne():
    raise ValueError("colonne « droit » absente")


def test_a_failed_step_shows_the_root_cause():
    assert progress_lines(mart_en_panne) == [
        "▶ étape", "  ✗ ÉCHEC : étape : ValueError: colonne « droit » absente"]


def test_a_step_waiting_for_the_writer_pool_says_what_it_waits_for():
    from dagster._core.events import DagsterEvent, EngineEventData

    blocked = DagsterEvent(
        event_type_value=dg.DagsterEventType.ENGINE_EVENT.value, job_name="campagne",
        step_key="published_marts", message="Step blocked by limit for pool duckdb_writer",
        event_specific_data=EngineEventData(
            metadata={"pool": dg.MetadataValue.pool("duckdb_writer")}))
    tracker = StageTracker(list, lambda pool: "tenu par exécution abc (étape flux_dbt)")
    assert tracker.lines(blocked, 0.0) == [
        "    en attente : publication des marts attend le verrou d'écriture DuckDB "
        "(pool duckdb_writer), tenu par exécution abc (étape flux_dbt)"]
