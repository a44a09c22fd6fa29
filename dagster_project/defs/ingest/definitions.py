"""Ingestion in Dagster: the ``bailleurs`` partitions, the ``raw/*`` assets and ``landing_sensor``.

The work itself is in ``dagster_project.ingest`` (Dagster-free); this module only wires it.
"""


import json

import dagster as dg

from dagster_project.ingest import apparitions, store
from dagster_project.ingest.landing import scan_landing, run_key
from dagster_project.ingest.pipeline import (
    EN_COURS_DE_DEPOT,
    REJETE,
    FileSummary,
    ingest_files,
    ingest_partitions,
)
from dagster_project.ingest.text import visible
from dagster_project.settings import paths

bailleurs = dg.DynamicPartitionsDefinition(name="bailleurs")

LANDING_KEY = dg.AssetKey(["landing", "fichiers"])
RAW_KEYS = {table: dg.AssetKey(["raw", table]) for table in store.ALL_TABLES}
INGESTION_JOB_NAME = "ingestion_bailleur"
INGESTION_SELECTION = dg.AssetSelection.assets(*RAW_KEYS.values())

landing_fichiers = dg.AssetSpec(
    LANDING_KEY,
    partitions_def=bailleurs,
    group_name="ingest",
    description="Fichiers déposés par les bailleurs dans le dossier de dépôt (observés par landing_sensor).",
)

_STATUTS = {"ACCEPTE": "accepté", "ACCEPTE_AVEC_AVERTISSEMENTS": "accepté avec avertissements",
            "REJETE": "rejeté", EN_COURS_DE_DEPOT: "en cours de dépôt (pris au prochain passage)"}


@dg.multi_asset(
    name="raw_ingestion",
    specs=[
        dg.AssetSpec(key, deps=[LANDING_KEY], partitions_def=bailleurs, group_name="ingest",
                     description=f"Entrepôt brut, table {table} (docs/contracts.md §2).")
        for table, key in RAW_KEYS.items()
    ],
    partitions_def=bailleurs,
    backfill_policy=dg.BackfillPolicy.single_run(),
)
def raw_ingestion(context: dg.AssetExecutionContext):
    """Ingest every new file version of the selected bailleurs (one process per bailleur).

    Each partition's materialization carries its own bailleur's files, verdicts and hashes."""
    summary = ingest_partitions(paths(), list(context.partition_keys), context.run.run_id)
    by_partition = summary.by_partition()
    for f in by_partition.get(None, []):
        if f.nouveau:
            context.log.warning(f"Fichier non identifié (SIREN / année absents du nom) : {f.chemin}")
    for key in context.partition_keys:
        files = by_partition.get(key, [])
        for table, asset_key in RAW_KEYS.items():
            context.add_asset_metadata(_metadata(files, table), asset_key=asset_key, partition_key=key)
    for asset_key in RAW_KEYS.values():
        yield dg.MaterializeResult(asset_key=asset_key)


def _metadata(files: list[FileSummary], table: str) -> dict:
    """One bailleur-year's files: counts, and for ``fichiers`` each file's hash and verdict."""
    new = [f for f in files if f.nouveau]
    metadata = {
        "fichiers": len(files),
        "nouveaux_fichiers": len(new),
        "rejetes": sum(f.statut == REJETE for f in new),
        "erreurs": sum(f.nb_erreurs for f in new),
        "avertissements": sum(f.nb_avertissements for f in new),
    }
    if table in store.DATA_TABLES:
        metadata["lignes"] = sum(f.lignes.get(table, 0) for f in new)
    if table == store.FICHIERS:
        metadata["sha256"] = dg.MetadataValue.json({f.chemin: f.sha256 for f in files if f.sha256})
        metadata["resume"] = dg.MetadataValue.md(summary_markdown(files))
    return metadata


def summary_markdown(files: list[FileSummary]) -> str:
    lines = ["| Fichier | Statut | Erreurs | Avertissements | Lignes | Rapport |",
             "| --- | --- | ---: | ---: | --- | --- |"]
    for f in files:
        statut = _STATUTS.get(f.statut, f.statut) + ("" if f.nouveau or f.statut == EN_COURS_DE_DEPOT
                                                       else " (déjà chargé)")
        rows = ", ".join(f"{t} : {n}" for t, n in f.lignes.items()) or "—"
        lines.append(f"| `{f.chemin}` | {statut} | {f.nb_erreurs} | {f.nb_avertissements} | {rows} "
                     f"| {f.rapport or '—'} |")
    if not files:
        lines.append("| aucun fichier | | | | | |")
    return "\n".join(lines)


def ingestion_job(selection: dg.AssetSelection = INGESTION_SELECTION):
    """The job the sensor runs; the code location widens ``selection`` to the downstream assets."""
    return dg.define_asset_job(INGESTION_JOB_NAME, selection=selection)


@dg.sensor(name="landing_sensor", job_name=INGESTION_JOB_NAME, minimum_interval_seconds=30,
           default_status=dg.DefaultSensorStatus.RUNNING)
def landing_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
    """New content → that bailleur's ingestion run; unchanged or already ingested → nothing;
    removed → logged."""
    p = paths()
    previous = json.loads(context.cursor) if context.cursor else {}
    scan = scan_landing(p.landing, previous, store.known_versions(p.raw_store))
    # the drop date is when the product first sees a content, not when its run starts
    apparitions.record(p.apparitions, [(c.chemin, c.sha256) for c in scan.changed])
    for chemin in scan.settling:
        context.log.info(f"En cours de dépôt, pris au prochain passage : {visible(chemin)}")
    for chemin in scan.removed:
        context.log.info(f"Fichier retiré du dépôt (rien n'est supprimé de l'archive) : {chemin}")
    if scan.unidentified:
        # No partition to run: record their rejection now so the bailleur gets a rapport.
        for f in ingest_files(p, [p.landing / c.chemin for c in scan.unidentified],
                              run_id="landing_sensor"):
            context.log.warning(f"Fichier non identifié (SIREN / année absents du nom) : {f.chemin}")
    by_partition = scan.by_partition()
    existing = set(context.instance.get_dynamic_partitions(bailleurs.name))
    added = sorted(set(by_partition) - existing)
    return dg.SensorResult(
        run_requests=[
            dg.RunRequest(partition_key=key, run_key=run_key(key, changes),
                          tags={"flux/fichiers": ",".join(sorted(visible(c.chemin) for c in changes))[:1000]})
            for key, changes in sorted(by_partition.items())
        ],
        dynamic_partitions_requests=[bailleurs.build_add_request(added)] if added else [],
        asset_events=[
            dg.AssetObservation(LANDING_KEY, partition=c.partition,
                                metadata={"chemin": visible(c.chemin), "sha256": c.sha256})
            for c in scan.changed if c.partition
        ],
        cursor=json.dumps(scan.state, sort_keys=True),
    )


def defs(job_selection: dg.AssetSelection = INGESTION_SELECTION) -> dg.Definitions:
    return dg.Definitions(
        assets=[landing_fichiers, raw_ingestion],
        jobs=[ingestion_job(job_selection)],
        sensors=[landing_sensor],
    )
