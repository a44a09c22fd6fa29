"""Bailleur partitions of a campaign year and the run tags that select them all in one run."""

from __future__ import annotations

from collections.abc import Iterable

import dagster as dg

from dagster_project.settings import paths

# Name of the dynamic partitions of the raw/* assets (contracts.md §5), key "<siren>_<annee>".
BAILLEURS_PARTITIONS = "bailleurs"
ANNEE_TAG = "flux/annee"
RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"
PARTITION_TAG = "dagster/partition"


def partition_annee(key: str | None) -> int | None:
    _, _, annee = (key or "").rpartition("_")
    return int(annee) if annee.isdigit() else None


def keys_of_year(keys: Iterable[str], annee: int) -> list[str]:
    """The keys of one bilan year, in the given (partition definition) order."""
    return [k for k in keys if partition_annee(k) == annee]


def campaign_tags(ordered_keys: list[str], annee: int) -> dict[str, str]:
    """Tags of one run over every partition from the first to the last key of the year.

    Dynamic partitions are ordered by registration, so another year's key registered in
    between is re-ingested too: harmless, ingestion is idempotent by file hash.
    """
    tags = {ANNEE_TAG: str(annee)}
    if ordered_keys:
        tags |= {RANGE_START_TAG: ordered_keys[0], RANGE_END_TAG: ordered_keys[-1]}
    return tags


def register_partitions(instance: dg.DagsterInstance, keys: Iterable[str]) -> list[str]:
    """Add the keys the instance does not know yet; return all keys in partition order."""
    known = instance.get_dynamic_partitions(BAILLEURS_PARTITIONS)
    new = sorted(set(keys) - set(known))
    if new:
        instance.add_dynamic_partitions(BAILLEURS_PARTITIONS, new)
    return list(known) + new


def discovered_keys() -> list[str]:
    """Partition keys of the files currently in the landing folder (ingestion's discovery)."""
    from dagster_project.ingest.pipeline import discover_partitions

    return list(discover_partitions(paths().landing))


def run_annee(tags: dict[str, str]) -> int | None:
    """The bilan year of a run: the campaign's tag, else the year of its single partition."""
    if tags.get(ANNEE_TAG):
        return int(tags[ANNEE_TAG])
    return partition_annee(tags.get(PARTITION_TAG))
