"""Bailleur partitions of a campaign year and the run tags that select them all in one run."""

from __future__ import annotations

from collections.abc import Iterable

import dagster as dg

from dagster_project import status
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
    """Tags of one run over every partition of year ``annee``: the range from its first to its
    last key, which ``register_partitions`` keeps adjacent, so the run selects no other year."""
    keys = keys_of_year(ordered_keys, annee)
    tags = {ANNEE_TAG: str(annee)}
    if keys:
        first, last = ordered_keys.index(keys[0]), ordered_keys.index(keys[-1])
        others = [k for k in ordered_keys[first : last + 1] if partition_annee(k) != annee]
        if others:
            raise ValueError(f"partitions d'une autre année dans la plage de {annee} : {others}")
        tags |= {RANGE_START_TAG: keys[0], RANGE_END_TAG: keys[-1]}
    return tags


def grouped_by_year(keys: list[str]) -> list[str]:
    """The keys ordered by year, each year's in registration order (a key without a year last)."""
    return sorted(keys, key=lambda k: (partition_annee(k) is None, partition_annee(k) or 0))


def register_partitions(instance: dg.DagsterInstance, keys: Iterable[str]) -> list[str]:
    """Add the keys the instance does not know yet, keeping each year's keys adjacent; return
    all keys in partition order.

    Dynamic partitions are ordered by registration and a run selects a *range* of them, so a
    late bailleur of 2024 registered after the 2025 ones would put 2025 keys inside 2024's
    range. The keys after the first one out of year order are deleted and added again in
    order: a partition's history (materializations, runs) is keyed by its name, not its
    place, and comes back with it."""
    known = list(instance.get_dynamic_partitions(BAILLEURS_PARTITIONS))
    wanted = grouped_by_year(known + sorted(set(keys) - set(known)))
    kept = next((i for i, (a, b) in enumerate(zip(known, wanted, strict=False)) if a != b),
                min(len(known), len(wanted)))
    for key in known[kept:]:
        instance.delete_dynamic_partition(BAILLEURS_PARTITIONS, key)
    if wanted[kept:]:
        instance.add_dynamic_partitions(BAILLEURS_PARTITIONS, wanted[kept:])
    return wanted


def discovered_keys() -> list[str]:
    """Partition keys of the files currently in the landing folder (ingestion's discovery)."""
    from dagster_project.ingest.pipeline import discover_partitions

    return list(discover_partitions(paths().landing))


def run_annee(tags: dict[str, str]) -> int | None:
    """The bilan year of a run: the campaign's tag, else the year of its single partition."""
    if tags.get(ANNEE_TAG):
        return int(tags[ANNEE_TAG])
    return partition_annee(tags.get(PARTITION_TAG))


def run_years(tags: dict[str, str]) -> list[int]:
    """The bilan years a run publishes (and writes trames for): its own (campaign, re-drop),
    else every year of the file log (a run started by hand without one)."""
    annee = run_annee(tags)
    if annee is not None:
        return [annee]
    years = status.read_fichiers(paths())["annee"].drop_nulls().unique().sort()
    return [int(y) for y in years]
