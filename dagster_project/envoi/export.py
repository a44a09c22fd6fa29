"""Export for platforms instead of mail (RESANA is a shared drive): one folder per recipient.

``envois/<annee>/export/<famille>_<code>/`` holds that recipient's trames of every bailleur
(``<siren>/<pièce jointe>``, the names the e-mails use) and ``LISEZMOI.txt``: what each file
is, its SHA-256, and how to read it. The folder is rebuilt from the current trames; each file
exported is journaled (statut ``exporté``) once per content.
"""

from __future__ import annotations

import shutil
from collections import defaultdict
from pathlib import Path

from dagster_project.atomic import copy_file, write_bytes
from dagster_project.envoi import journal, messages
from dagster_project.envoi.plan import Courrier
from dagster_project.trames.common import safe_stem


def _index(famille_code: str, courriers: list[Courrier]) -> str:
    first = courriers[0]
    lines = [
        f"Bilan {first.annee} de la gestion en flux – {first.nom} ({famille_code})",
        "",
        "Ce dossier contient les trames qui vous sont destinées, un sous-dossier par bailleur "
        "(numéro SIREN).",
        "",
    ]
    for c in courriers:
        lines.append(f"Bailleur {c.bailleur_siren} :")
        for p in c.pieces:
            description = messages.DESCRIPTIONS[p.entry.kind].format(
                annee=c.annee, suivante=c.annee + 1
            )
            lines.append(f"  - {c.bailleur_siren}/{p.name} : {description}")
            lines.append(f"    empreinte SHA-256 : {p.entry.sha256}")
        lines.append("")
    lines.append(f"Comment lire ces fichiers : {messages.HOW_TO_READ}")
    return "\n".join(lines) + "\n"


def export(courriers: list[Courrier], root: Path, writer: journal.Writer,
           seen: set[tuple[str, str]], clock) -> int:
    """Write one folder per recipient; the number of folders."""
    by_recipient: dict[str, list[Courrier]] = defaultdict(list)
    for c in courriers:
        by_recipient[f"{c.famille.lower()}_{safe_stem(c.code)}"].append(c)
    if root.is_dir():
        shutil.rmtree(root)
    for folder_name, group in sorted(by_recipient.items()):
        folder = root / folder_name
        at = clock()
        for c in group:
            for p in c.pieces:
                copy_file(p.path, folder / c.bailleur_siren / p.name)
            export_id = messages.message_id(c, "export@" + folder_name, essai="export")
            if (export_id, journal.EXPORTE) not in seen:
                writer.record(journal.rows(c, statut=journal.EXPORTE, at=at, message_id=export_id,
                                   adresse="", eml=f"{c.annee}/export/{folder_name}"))
        write_bytes(folder / "LISEZMOI.txt", _index(folder_name, group).encode("utf-8"))
    return len(by_recipient)
