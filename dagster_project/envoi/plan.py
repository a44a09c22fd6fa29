"""The messages of a campaign year: one per bailleur × recipient, from the trames manifest.

[choice] The unit is one bailleur × one recipient (a réservataire gets its bilan and its
prévisionnel in one message, an EPCI/EPT or a State service its consolidated trame): bailleurs
complete at different times, and a late correction replaces one bailleur's message only.
Regional consolidations (``REGIONAL_*``) stay with the regional team: they are not sent.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from dagster_project.envoi.adresses import Adresses, resolve
from dagster_project.trames.common import safe_stem
from dagster_project.trames.manifest import Entry, read_manifest

# Trame kind → the recipient family that receives it (its message).
FAMILLES = {
    "RESERVATAIRE": "RESERVATAIRE",
    "PREVISIONNEL": "RESERVATAIRE",
    "EPCI_EPT": "EPCI_EPT",
    "ETAT": "ETAT",
}
# Attachment names: unique inside a message, readable in a mail client's list.
KIND_LABELS = {
    "RESERVATAIRE": "bilan",
    "PREVISIONNEL": "previsionnel",
    "EPCI_EPT": "bilan-territoire",
    "ETAT": "bilan-etat",
}


@dataclass(frozen=True)
class Piece:
    """One attached trame."""

    entry: Entry
    path: Path

    @property
    def name(self) -> str:
        e = self.entry
        suffix = self.path.suffix
        label = KIND_LABELS.get(e.kind, e.kind.lower())
        return f"Bilan{e.annee}_{e.bailleur_siren}_{label}_{safe_stem(e.recipient_code)}{suffix}"

    @property
    def content(self) -> str:
        """What "same content" means: the trame's content fingerprint (figures and layout,
        not the generation date), else the file's SHA-256."""
        return self.entry.fingerprint or self.entry.sha256


@dataclass(frozen=True)
class Courrier:
    """One message: a bailleur's trames for one recipient."""

    annee: int
    bailleur_siren: str
    famille: str
    code: str
    nom: str
    adresses: Adresses
    pieces: tuple[Piece, ...]

    @property
    def cle(self) -> str:
        """The recipient's identity across runs (journal column ``cle``)."""
        return f"{self.annee}/{self.bailleur_siren}/{self.famille}/{self.code}"

    @property
    def contenu(self) -> str:
        """One hash over the attached contents: equal, nothing new to send."""
        parts = sorted(f"{p.entry.file}:{p.content}" for p in self.pieces)
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()

    @property
    def slug(self) -> str:
        return f"{self.bailleur_siren}_{self.famille.lower()}_{safe_stem(self.code)}"


def plan_year(year_dir: Path, reference: dict[tuple[str, str], str]) -> list[Courrier]:
    """Every message of the year whose trames are in ``year_dir`` (sorted, stable)."""
    groups: dict[tuple[str, str, str], list[Entry]] = defaultdict(list)
    for entry in read_manifest(year_dir).values():
        famille = FAMILLES.get(entry.kind)
        if famille and entry.bailleur_siren:
            groups[(entry.bailleur_siren, famille, entry.recipient_code)].append(entry)
    courriers = []
    for (siren, famille, code), entries in sorted(groups.items()):
        entries.sort(key=lambda e: (list(FAMILLES).index(e.kind), e.file))
        first = entries[0]
        emails = ", ".join(dict.fromkeys(e.email for e in entries if e.email))
        courriers.append(
            Courrier(
                annee=first.annee,
                bailleur_siren=siren,
                famille=famille,
                code=code,
                nom=first.recipient_nom,
                adresses=resolve(famille, code, emails, reference),
                pieces=tuple(Piece(e, year_dir / e.file) for e in entries),
            )
        )
    return courriers
