"""When the product first saw each file content in the landing folder (the drop date).

A file's mtime says when its bytes were last written, which a copy or an unzip can set to
anything: it orders versions but proves nothing about a deadline. The drop date is instead
recorded by the product the first time it sees a content (SHA-256): by the landing sensor at
each look, by ``python -m dagster_project.suivi observer``, and at the latest by ingestion.
One small write-once JSON file per content, ``<data>/warehouse/apparitions/<sha[:2]>/<sha>.json``:
a later copy of the same bytes, under any name, keeps the first date.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

from dagster_project.atomic import write_bytes
from dagster_project.horloge import maintenant


def ledger_path(ledger: Path, sha256: str) -> Path:
    return ledger / sha256[:2] / f"{sha256}.json"


def first_seen(ledger: Path, sha256: str) -> datetime | None:
    path = ledger_path(ledger, sha256)
    if not path.is_file():
        return None
    return datetime.fromisoformat(json.loads(path.read_text("utf-8"))["apparu_le"])


def record(ledger: Path, seen: Iterable[tuple[str, str]], when: datetime | None = None
           ) -> dict[str, datetime]:
    """Record ``(chemin, sha256)`` pairs not seen before, at ``when`` (default: the clock).

    Returns the drop date of every given content (recorded now or earlier)."""
    when = when or maintenant()
    dates: dict[str, datetime] = {}
    for chemin, sha256 in seen:
        if sha256 in dates:
            continue
        known = first_seen(ledger, sha256)
        if known is None:
            payload = {"sha256": sha256, "chemin": chemin, "apparu_le": when.isoformat()}
            write_bytes(ledger_path(ledger, sha256), json.dumps(payload).encode("utf-8"))
            known = when
        dates[sha256] = known
    return dates
