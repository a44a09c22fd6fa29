"""The demo campaign goes through ingestion without a single blocking error."""

from __future__ import annotations

from dagster_project.demo import SCALES, generate_campaign
from dagster_project.ingest.pipeline import discover_partitions, ingest_partitions


def test_demo_campaign_is_accepted_by_ingestion(workspace):
    generate_campaign(workspace.landing, SCALES["demo"], seed=11)
    keys = discover_partitions(workspace.landing)
    assert len(keys) == SCALES["demo"].nb_bailleurs
    summary = ingest_partitions(workspace, keys, run_id="demo")
    refused = [(f.chemin, f.statut, f.nb_erreurs) for f in summary.files
               if f.statut == "REJETE" or f.nb_erreurs]
    assert refused == []
    assert {f.partition for f in summary.files} == set(keys)
    # the tolerant reader's warnings are not expected either: the demo is clean data
    assert sum(f.nb_avertissements for f in summary.files) == 0
