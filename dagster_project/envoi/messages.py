"""The French message of one courrier: subject, body and attachments."""

from __future__ import annotations

import datetime as dt
import hashlib
from email.message import EmailMessage
from email.utils import parseaddr
from zoneinfo import ZoneInfo

from dagster_project.envoi.courriel import Attachment, compose
from dagster_project.envoi.plan import Courrier

PARIS = ZoneInfo("Europe/Paris")
DEFAULT_SENDER = (
    "Équipe régionale de la gestion en flux <bilans-gestion-en-flux@exemple.invalid>"
)
DESCRIPTIONS = {
    "RESERVATAIRE": "bilan {annee} de vos droits de réservation sur le flux de ce bailleur "
    "(logements proposés et attribués, droit et écart, ventilations)",
    "PREVISIONNEL": "prévisionnel {suivante} des logements soustraits du flux et droits indicatifs",
    "EPCI_EPT": "bilan {annee} consolidé des attributions sur votre territoire, tous réservataires",
    "ETAT": "bilan {annee} consolidé du département, tous réservataires, et la part de l'État",
}
HOW_TO_READ = (
    "chaque classeur s'ouvre dans Excel ou LibreOffice Calc. La feuille « Page de garde » "
    "rappelle le destinataire, le bailleur, la date de génération et les fichiers déposés par le "
    "bailleur à l'origine des chiffres ; les feuilles suivantes présentent les chiffres ; la "
    "feuille « Notice » explique chaque indicateur en quelques mots."
)


class AlteredTrame(ValueError):
    """A trame's file no longer has the manifest's SHA-256 (rewritten since, or missing)."""


def attachments(c: Courrier) -> list[Attachment]:
    """The trames' bytes, checked against the manifest: what is journaled is what is attached."""
    out = []
    for p in c.pieces:
        data = p.path.read_bytes() if p.path.is_file() else b""
        if hashlib.sha256(data).hexdigest() != p.entry.sha256:
            raise AlteredTrame(
                f"{p.entry.file} a changé depuis le manifeste (campagne en cours ?) : relancer "
                "l'envoi une fois la campagne terminée"
            )
        out.append(Attachment(p.name, data))
    return out


def paris_date(moment: dt.datetime) -> str:
    return moment.astimezone(PARIS).strftime("%d/%m/%Y à %H:%M")


def subject(c: Courrier) -> str:
    return f"Bilan {c.annee} de la gestion en flux – bailleur {c.bailleur_siren} – {c.nom}"


def replacement_subject(c: Courrier, replaced_at: dt.datetime) -> str:
    return f"Annule et remplace le message du {paris_date(replaced_at)} – {subject(c)}"


def message_id(c: Courrier, sender: str, replaces: str = "", essai: str = "") -> str:
    """Deterministic: the same message (recipient, content, addresses, replaced message) keeps
    its Message-ID from draft to sending, and a re-run journals nothing twice."""
    domain = parseaddr(sender)[1].rpartition("@")[2] or "exemple.invalid"
    seed = "\n".join([c.cle, c.contenu, *c.adresses.valid, replaces, essai])
    return f"<{hashlib.sha256(seed.encode()).hexdigest()[:32]}.bilan{c.annee}@{domain}>"


def build(
    c: Courrier,
    *,
    sender: str,
    date: dt.datetime,
    msg_id: str,
    replaces: tuple[str, dt.datetime] | None = None,
    essai_to: str = "",
    reply_to: str = "",
) -> EmailMessage:
    """The message of ``c`` (``essai_to``: a test send to that address instead)."""
    title = (
        replacement_subject(c, replaces[1]) if replaces else subject(c)
    )
    body: list[str | list[str]] = []
    if essai_to:
        title = f"[ESSAI] {title}"
        body.append(
            "MESSAGE D'ESSAI – en envoi réel, ce message sera adressé à : "
            + ", ".join(c.adresses.valid) + "."
        )
    body.append("Madame, Monsieur,")
    several = len(c.pieces) > 1
    if replaces:
        updated = "les fichiers ci-joints ont été mis à jour" if several else \
            "le fichier ci-joint a été mis à jour"
        body.append(
            f"Ce message annule et remplace celui du {paris_date(replaces[1])} (référence "
            f"{replaces[0]}) : {updated} depuis. Merci de ne plus utiliser les fichiers reçus "
            "avec ce précédent message."
        )
    body.append(
        f"Veuillez trouver ci-joint le bilan {c.annee} de la gestion en flux des logements "
        f"sociaux du bailleur {c.bailleur_siren}, établi pour {c.nom} :"
    )
    body.append([
        f"{p.name} : "
        + DESCRIPTIONS[p.entry.kind].format(annee=c.annee, suivante=c.annee + 1)
        for p in c.pieces
    ])
    body.append(f"Comment lire {'ces fichiers' if several else 'ce fichier'} : {HOW_TO_READ}")
    body.append(
        f"Pour vérifier que vous avez reçu la bonne version, voici l'empreinte SHA-256 "
        f"{'de chaque fichier' if several else 'du fichier'} (l'équipe régionale la garde au "
        "journal des envois) :"
    )
    body.append([f"{p.name} : {p.entry.sha256}" for p in c.pieces])
    body.append("Pour toute question sur ces chiffres, il vous suffit de répondre à ce message.")
    body.append("L'équipe régionale de la gestion en flux")
    return compose(
        sender=sender,
        to=[essai_to] if essai_to else list(c.adresses.valid),
        subject=title,
        paragraphs=body,
        message_id=msg_id,
        date=date.astimezone(PARIS),
        attachments=attachments(c),
        reply_to=reply_to or None,
        references=[replaces[0]] if replaces else [],
        headers={
            "X-Flux-Annee": str(c.annee),
            "X-Flux-Bailleur": c.bailleur_siren,
            "X-Flux-Destinataire": f"{c.famille}/{c.code}",
        },
    )
