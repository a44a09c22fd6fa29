"""What changed in the landing folder since the last look (the sensor's pure core).

The state maps each file's path relative to the landing folder to ``[size, mtime_ns,
sha256]``; a file whose size and mtime are unchanged is not re-hashed. A file still being
written (the settle rule of ``dropped``, shared with the campaign CLI) is left for the next look.
"""

from __future__ import annotations

import time
from collections.abc import Set
from dataclasses import dataclass, field
from pathlib import Path

from dagster_project.ingest.dropped import DroppedFile, StillWriting, landing_entries, relative
from dagster_project.ingest.pipeline import partition_of


@dataclass(frozen=True)
class Change:
    chemin: str  # relative to the landing folder, as on disk
    sha256: str
    partition: str | None  # None: the name carries no SIREN / year
    version: str  # store key of this content at this place


@dataclass
class Scan:
    state: dict[str, list]
    changed: list[Change] = field(default_factory=list)  # new or new content
    removed: list[str] = field(default_factory=list)
    settling: list[str] = field(default_factory=list)  # still being written: next look

    def by_partition(self) -> dict[str, list[Change]]:
        out: dict[str, list[Change]] = {}
        for change in self.changed:
            if change.partition:
                out.setdefault(change.partition, []).append(change)
        return out

    @property
    def unidentified(self) -> list[Change]:
        return [c for c in self.changed if c.partition is None]


def scan_landing(landing: Path, previous: dict[str, list], ingested: Set[str] = frozenset(),
                 now: float | None = None) -> Scan:
    """``changed``: file versions (content at a place) new since ``previous`` and not
    ``ingested`` yet (the raw store's versions: a campaign run may have loaded them before the
    sensor's first look, and ingesting them again changes nothing)."""
    now = time.time() if now is None else now
    scan = Scan(state={})
    for path in landing_entries(landing):
        chemin = relative(path, landing)
        try:
            stat = path.lstat()
            before = previous.get(chemin)
            if before and before[0] == stat.st_size and before[1] == stat.st_mtime_ns:
                scan.state[chemin] = before
                continue
            dropped = DroppedFile.at(path, landing, now)
        except StillWriting:
            if before:
                scan.state[chemin] = before  # still being written: look again next time
            scan.settling.append(chemin)
            continue
        except OSError:  # removed meanwhile, or not even its metadata readable: the others go on
            continue
        scan.state[chemin] = [stat.st_size, stat.st_mtime_ns, dropped.sha256]
        if (not before or before[2] != dropped.sha256) and dropped.version not in ingested:
            scan.changed.append(Change(chemin, dropped.sha256, partition_of(path.name), dropped.version))
    scan.removed = sorted(set(previous) - set(scan.state))
    return scan


def run_key(partition: str, changes: list[Change]) -> str:
    """Deterministic: the partition and the sorted ``path:sha256`` of its changed files."""
    return partition + "|" + ",".join(sorted(f"{c.chemin}:{c.sha256}" for c in changes))
