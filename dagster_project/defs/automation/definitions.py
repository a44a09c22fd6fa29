"""Operations: publication for analysts, campaign summary, the `campagne` job and its schedule."""

import hashlib
import os
from datetime import UTC, datetime

import dagster as dg
import polars as pl

from dagster_project.defs.automation.partitions import (
    campaign_tags,
    discovered_keys,
    keys_of_year,
    register_partitions,
    run_annee,
    run_years,
)
from dagster_project.defs.automation.bailleur_status import status_metadata, statut_bailleurs
from dagster_project.defs.envoi.definitions import ON_DEMAND
from dagster_project.marts import PUBLISHED_MODELS
from dagster_project.publish import publish, scope_name
from dagster_project.settings import DUCKDB_WRITER_POOL, paths
from dagster_project.summary import FailedCheck, collect, render_markdown, write_summary

CAMPAIGN_JOB = "campagne"
# [choice] 5 March 06:00 (Europe/Paris): after the 28 February legal deadline for the bilans.
DEFAULT_CAMPAIGN_CRON = "0 6 5 3 *"
CAMPAIGN_TIMEZONE = "Europe/Paris"


def input_files(mart_sources: pl.DataFrame | None) -> dict[str, str]:
    """The dropped files behind the published figures: path → SHA-256 (from `mart_sources`)."""
    if mart_sources is None or mart_sources.is_empty():
        return {}
    rows = mart_sources.select("_source_file", "_source_sha256").unique().sort("_source_file")
    return dict(rows.iter_rows())


def fingerprint(files: dict[str, str]) -> str:
    """One SHA-256 over the sorted input hashes: equal fingerprints, same inputs."""
    return hashlib.sha256("\n".join(sorted(files.values())).encode()).hexdigest()


@dg.asset(
    group_name="publication",
    pool=DUCKDB_WRITER_POOL,
    deps=[*PUBLISHED_MODELS, "quality_scorecard", statut_bailleurs],
    kinds={"duckdb", "parquet"},
    description="Marts publiés en Parquet et catalogue DuckDB en lecture seule pour les analystes.",
)
def published_marts(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    p = paths()
    annees = run_years(context.run.tags)
    pub = publish(p, context.run.run_id, annees)
    sources = [s / "mart_sources.parquet" for s in pub.snapshots.values()]
    frames = [pl.read_parquet(f) for f in sources if f.is_file()]
    files = input_files(pl.concat(frames) if frames else None)
    folders = [str(p.published(annee)) for annee in pub.snapshots]
    context.log.info(f"{len(pub.marts)} marts publiés dans {', '.join(folders)}, "
                     f"catalogue {p.catalog}")
    return dg.MaterializeResult(
        metadata={
            "run_id": context.run.run_id,
            "version": pub.version,
            "annees": dg.MetadataValue.json(annees),
            "catalogue": dg.MetadataValue.path(str(p.catalog)),
            "dossiers_publies": dg.MetadataValue.json(folders),
            "nb_fichiers_sources": len(files),
            "empreinte_sources": fingerprint(files),
            "fichiers_sources": dg.MetadataValue.json(files),
            **{
                f"nb_lignes/{scope_name(annee)}/{name}": count
                for annee, counts in pub.row_counts.items()
                for name, count in counts.items()
            },
        }
    )


def run_failed_checks(instance: dg.DagsterInstance, run_id: str) -> list[FailedCheck]:
    """The asset checks (dbt tests and Great Expectations) that failed in this run."""
    records = instance.get_records_for_run(
        run_id=run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION
    ).records
    failed = []
    for record in records:
        evaluation = record.event_log_entry.dagster_event.event_specific_data
        if not evaluation.passed:
            failed.append(
                FailedCheck(
                    asset=evaluation.asset_key.to_user_string(),
                    check=evaluation.check_name,
                    gravite="ERREUR"
                    if evaluation.severity == dg.AssetCheckSeverity.ERROR
                    else "AVERTISSEMENT",
                )
            )
    return failed


def run_start(instance: dg.DagsterInstance, run_id: str) -> datetime | None:
    stats = instance.get_run_stats(run_id)
    return datetime.fromtimestamp(stats.start_time, UTC) if stats.start_time else None


@dg.asset(
    group_name="publication",
    deps=["trames", published_marts, "suivi_campagne"],
    kinds={"markdown"},
    description="Résumé de la campagne en français : dépôts, contrôles en échec, trames écrites.",
)
def campaign_summary(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    summary = collect(
        paths(),
        run_id=context.run.run_id,
        annee=run_annee(context.run.tags),
        run_started=run_start(context.instance, context.run.run_id),
        failed_checks=run_failed_checks(context.instance, context.run.run_id),
    )
    target = write_summary(summary)
    return dg.MaterializeResult(
        metadata={
            "run_id": context.run.run_id,
            "annee": summary.annee or 0,
            **status_metadata(summary.status),
            "controles_en_echec": len(summary.failed_checks),
            "trames_ecrites": summary.trames_ecrites,
            "resume": dg.MetadataValue.path(str(target)),
            "texte": dg.MetadataValue.md(render_markdown(summary)),
        }
    )


# Everything: ingestion of the run's bailleur partitions, then every unpartitioned asset (dbt,
# checks, scorecard, publication, trames, summary). The landing sensor's job for a re-drop
# uses the same selection (`ingest_defs(job_selection=CAMPAIGN_SELECTION)`), so one
# bailleur's re-drop refreshes its figures, the regional consolidations and the trames.
# The delivery of the trames (defs/envoi) is tagged on demand: never part of a campaign run.
CAMPAIGN_SELECTION = dg.AssetSelection.all() - dg.AssetSelection.tag(*next(iter(ON_DEMAND.items())))

campagne = dg.define_asset_job(
    CAMPAIGN_JOB,
    selection=CAMPAIGN_SELECTION,
    description="Toute la campagne d'une année de bilan : ingestion de tous les bailleurs, "
    "dbt, contrôles, publication, trames, résumé.",
)


def campaign_job() -> dg.JobDefinition:
    """The resolved `campagne` job; a module-level factory so `dg.reconstructable` can rebuild it."""
    from dagster_project.definitions import defs as code_location

    return code_location().resolve_job_def(CAMPAIGN_JOB)


def campaign_cron() -> str:
    return os.environ.get("FLUX_CAMPAGNE_CRON", DEFAULT_CAMPAIGN_CRON)


@dg.schedule(
    job=campagne,
    cron_schedule=campaign_cron(),
    execution_timezone=CAMPAIGN_TIMEZONE,
    description="Campagne annuelle sur les fichiers de l'année précédente.",
)
def campagne_annuelle(context: dg.ScheduleEvaluationContext):
    annee = context.scheduled_execution_time.year - 1
    keys = register_partitions(context.instance, discovered_keys())
    if not keys_of_year(keys, annee):
        return dg.SkipReason(f"Aucun fichier de bilan {annee} dans {paths().landing}.")
    return dg.RunRequest(tags=campaign_tags(keys, annee))


def defs() -> dg.Definitions:
    return dg.Definitions(
        assets=[statut_bailleurs, published_marts, campaign_summary],
        jobs=[campagne],
        schedules=[campagne_annuelle],
    )
