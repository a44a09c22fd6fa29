"""Reminders (relances): who must be reminded, and a French draft e-mail for each.

Reminded: an expected bailleur with nothing dropped once the reminder date of the year has
come (``ref_echeances.date_relance``), a bailleur whose required sheet was rejected, an
incomplete one. Drafts are ``.eml`` files (stdlib ``email``, header ``X-Unsent: 1`` so mail
clients open them as drafts); sending them belongs to the delivery stage (``envoi``).
A bailleur outside the reference has no contact address: it is listed, not drafted.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from email.message import EmailMessage
from datetime import UTC
from email.utils import format_datetime
from pathlib import Path
from string import Template

from dagster_project import status
from dagster_project.atomic import write_bytes
from dagster_project.settings import Paths
from dagster_project.suivi import echeances as ech
from dagster_project.documents.dates import paris
from dagster_project.suivi.tableau import ABSENT, REJETE, Suivi

EXPEDITEUR_ENV = "FLUX_COURRIEL_EXPEDITEUR"
EXPEDITEUR_DEFAUT = "bilans-gestion-en-flux@region-idf.example"

MIME_TYPES = {".html": ("text", "html"),
              ".xlsx": ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")}
OBJETS = {
    ABSENT: "aucun fichier reçu",
    REJETE: "fichier rejeté, à redéposer",
    status.INCOMPLET: "dépôt incomplet",
}
CONSTATS = {
    ABSENT: Template("nous n'avons reçu à ce jour aucun fichier de $nom (SIREN $siren) pour le "
                     "bilan $annee de la gestion en flux."),
    REJETE: Template("le dépôt de $nom (SIREN $siren) pour le bilan $annee ne peut pas être "
                     "pris en compte : $motif"),
    status.INCOMPLET: Template("le dépôt de $nom (SIREN $siren) pour le bilan $annee est "
                               "incomplet : $motif"),
}
CORPS = Template("""Madame, Monsieur,

$constat

$echeance

$rapport

Le dépôt se fait dans le dossier habituel, un fichier par bilan nommé <siren>_<année>.xlsx (ou un fichier CSV par feuille : <siren>_<année>_<feuille>.csv). Un fichier corrigé remplace le précédent ; il est contrôlé dès sa réception.

Nous restons à votre disposition pour toute question.

L'équipe régionale de la gestion en flux
""")


@dataclass(frozen=True)
class Relance:
    siren: str
    nom: str
    statut: str
    destinataires: tuple[str, ...]
    objet: str
    corps: str


def folder(p: Paths, annee: int) -> Path:
    return p.suivi / "relances" / str(annee)


def _echeance(s: Suivi) -> str:
    e, au = s.echeances, s.evalue_le.date()
    if au <= e.date_legale:
        return (f"La date limite de dépôt est le {paris(e.date_legale)} "
                f"(dépôts acceptés jusqu'au {paris(e.date_tolerance)}).")
    if au <= e.date_tolerance:
        return (f"La date limite du {paris(e.date_legale)} est passée : les dépôts sont encore "
                f"acceptés jusqu'au {paris(e.date_tolerance)}.")
    return (f"La date limite tolérée ({paris(e.date_tolerance)}) est dépassée : merci de "
            "déposer au plus vite, votre bilan n'entre pas dans les trames tant qu'il manque.")


def attachments(p: Paths, row: dict, rapport_bailleur: Path | None) -> list[Path]:
    """The bailleur's campaign rapport, and the rapport de contrôle of its latest file."""
    controle = p.marts / row["dernier_rapport"] if row["dernier_rapport"] else None
    return [f for f in (rapport_bailleur, controle) if f is not None and f.is_file()]


def _rapport(files: list[Path]) -> str:
    lines = []
    for f in files:
        if f.suffix == ".html":
            lines.append("Le rapport de votre campagne (fichiers reçus, comptés, rejetés, "
                         f"manquants) est joint à ce message ({f.name}).")
        else:
            lines.append(f"Le rapport de contrôle de votre dernier fichier ({f.name}, joint) "
                         "indique pour chaque erreur la feuille, la ligne, la colonne et la "
                         "correction attendue.")
    return "\n\n".join(lines) or "Le format attendu est décrit dans le format d'échange."


def due(s: Suivi) -> list[dict]:
    """The rows of the bailleurs to remind now."""
    out = []
    for row in s.lignes.iter_rows(named=True):
        if row["statut"] == ABSENT and not s.echeances.relance_ouverte(s.evalue_le):
            continue
        if row["statut"] in OBJETS:
            out.append(row)
    return out


def draft(s: Suivi, row: dict, files: list[Path]) -> Relance:
    statut = row["statut"]
    values = {"nom": row["bailleur_nom"], "siren": row["bailleur_siren"], "annee": s.annee,
              "motif": row["motif"]}
    constat = CONSTATS[statut].substitute(values)
    corps = CORPS.substitute(constat=constat[0].upper() + constat[1:],
                             echeance=_echeance(s), rapport=_rapport(files))
    return Relance(row["bailleur_siren"], row["bailleur_nom"], statut,
                   tuple(filter(None, (row["courriels"] or "").split(","))),
                   f"Bilan de gestion en flux {s.annee} – {row['bailleur_nom']} : {OBJETS[statut]}",
                   corps)


def message(r: Relance, s: Suivi, files: list[Path]) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = os.environ.get(EXPEDITEUR_ENV, EXPEDITEUR_DEFAUT)
    msg["To"] = ", ".join(r.destinataires)
    msg["Subject"] = r.objet
    msg["Date"] = format_datetime(s.evalue_le.replace(tzinfo=UTC))
    msg["X-Unsent"] = "1"
    msg.set_content(r.corps)
    for f in files:
        maintype, subtype = MIME_TYPES[f.suffix]
        msg.add_attachment(f.read_bytes(), maintype=maintype, subtype=subtype, filename=f.name)
    return msg


def write_drafts(p: Paths, s: Suivi, rapports: dict[str, Path] | None = None) -> list[Path]:
    """One ``<siren>.eml`` per bailleur to remind (with an address); stale drafts removed."""
    target = folder(p, s.annee)
    written = []
    for row in due(s):
        files = attachments(p, row, (rapports or {}).get(row["bailleur_siren"]))
        r = draft(s, row, files)
        if not r.destinataires:
            continue
        path = target / f"relance_{r.siren}.eml"
        write_bytes(path, bytes(message(r, s, files)))
        written.append(path)
    for old in target.glob("*.eml") if target.is_dir() else []:
        if old not in written:
            old.unlink()
    return written
