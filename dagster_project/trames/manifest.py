"""The manifest of a campaign year: every trame, its recipient and its SHA-256 (CSV and JSON).

It is also the memory of incremental runs: a trame whose content fingerprint is unchanged and
whose file still has the recorded SHA-256 is not rewritten; a bailleur whose input digest
(inputs.py) is unchanged keeps its entries without its reports being built at all.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from dagster_project.atomic import sha256_of, write_bytes
from dagster_project.trames.model import TEMPLATE_VERSION, Report


@dataclass(frozen=True)
class Entry:
    file: str  # relative to trames/<annee>/
    kind: str
    annee: int
    bailleur_siren: str
    recipient_code: str
    recipient_nom: str
    departement: str
    territoire: str
    email: str
    sha256: str
    nb_figures: int
    fingerprint: str
    run_id: str
    generated_at: str
    input_digest: str  # of the bailleur's inputs (inputs.py); empty for regional trames

    @classmethod
    def of(cls, report: Report, sha256: str, run_id: str, generated_at: str,
           input_digest: str) -> Entry:
        return cls(
            file=report.relpath,
            kind=report.kind,
            annee=report.annee,
            bailleur_siren=report.bailleur if report.bailleur.isdigit() else "",
            recipient_code=report.recipient_code,
            recipient_nom=report.destinataire,
            departement=report.departement,
            territoire=report.territoire,
            email=report.email,
            sha256=sha256,
            nb_figures=report.nb_figures,
            fingerprint=report.fingerprint,
            run_id=run_id,
            generated_at=generated_at,
            input_digest=input_digest,
        )


COLUMNS = [f.name for f in fields(Entry)]


def read_manifest(year_dir: Path) -> dict[str, Entry]:
    path = year_dir / "manifest.json"
    if not path.exists():
        return {}
    files = json.loads(path.read_text(encoding="utf-8")).get("files", [])
    return {item["file"]: Entry(**{k: item.get(k, "") for k in COLUMNS}) for item in files}


def is_current(entry: Entry | None, report: Report, year_dir: Path) -> bool:
    """True when the file on disk is the one the manifest recorded for this very content."""
    return (
        entry is not None and entry.fingerprint == report.fingerprint and is_intact(entry, year_dir)
    )


def is_intact(entry: Entry, year_dir: Path) -> bool:
    """True when the file on disk is still the one the manifest recorded."""
    path = year_dir / entry.file
    return path.is_file() and sha256_of(path) == entry.sha256


def write_manifest(
    year_dir: Path, annee: int, entries: list[Entry], excluded: dict[str, str] | None = None
) -> None:
    """``excluded``: the bailleurs of the year that get no trame (not published) → why."""
    entries = sorted(entries, key=lambda e: e.file)
    payload = {
        "annee": annee,
        "template_version": TEMPLATE_VERSION,
        "nb_fichiers": len(entries),
        "files": [asdict(e) for e in entries],
        "bailleurs_non_publies": [
            {"bailleur_siren": siren, "motif": why} for siren, why in sorted((excluded or {}).items())
        ],
    }
    write_bytes(
        year_dir / "manifest.json",
        (json.dumps(payload, ensure_ascii=False, indent=1) + "\n").encode("utf-8"),
    )
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(asdict(e) for e in entries)
    write_bytes(year_dir / "manifest.csv", buffer.getvalue().encode("utf-8"))
