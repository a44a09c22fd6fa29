"""Small helpers shared by the trame builders."""

from __future__ import annotations

import re

from dagster_project.documents.dates import paris
from dagster_project.trames import categories
from dagster_project.trames.loader import BailleurMarts
from dagster_project.trames.model import Report, Sheet
from dagster_project.trames.notice import notice


def bailleur_report(
    b: BailleurMarts,
    recipient: dict,
    *,
    kind: str,
    folder: str,
    titre: str,
    destinataire: str,
    perimetre: str,
    notice_keys: tuple[str, ...],
    sheets: tuple[Sheet, ...],
    code: str | None = None,
    recipient_code: str | None = None,
    **extra: str,
) -> Report:
    """One trame of one bailleur for one recipient: what every kind shares (file under the
    bailleur's folder, named after ``code``, its sources, the recipient's e-mail) filled in once."""
    code = code or recipient["recipient_code"]
    return Report(
        kind=kind,
        relpath=f"{b.siren}/{folder}/{safe_stem(code)}.xlsx",
        annee=b.annee,
        titre=titre,
        destinataire=destinataire,
        bailleur=b.siren,
        perimetre=perimetre,
        recipient_code=recipient_code or recipient["recipient_code"],
        sources=sources(b),
        notice=notice(*notice_keys),
        sheets=sheets,
        **{"email": str(recipient.get("email") or ""), **extra},
    )


def safe_stem(code: str) -> str:
    """A file name from a code typed by a bailleur (no path separators, no surprises)."""
    stem = re.sub(r"[^0-9A-Za-z_.-]+", "_", code.strip()).strip("._")
    return stem or "sans_code"


def sources(b: BailleurMarts) -> tuple[tuple[str, str, str], ...]:
    """The input files behind a bailleur's figures (mart_sources), for the cover's audit trail."""
    return b.memo("sources", lambda: _sources(b["mart_sources"]))


def _sources(frame) -> tuple[tuple[str, str, str], ...]:
    if frame.is_empty():
        return ()
    rows = frame.select("_source_file", "_source_sha256", "depose_le").unique()
    return tuple(
        sorted(
            (str(f or ""), str(sha or ""), paris(d))
            for f, sha, d in rows.iter_rows()
        )
    )


def departement_label(dep: str) -> str:
    return f"{dep} – {categories.departements().get(dep, dep)}"


def split_departements(value: str | None) -> list[str]:
    return sorted({d.strip() for d in (value or "").split(",") if d.strip()})
