"""One delivery run: plan the messages of a year, compare with the journal, then draft, test,
send or export them, journaling every outcome.

Modes (``deliver(..., mode=)``):
- ``brouillon`` (default): each pending message is written as ``envois/<annee>/brouillons/
  <siren>/<famille>_<code>.eml``; nothing leaves the machine.
- ``essai``: ONE message (the first pending one) is sent to a test address, subject ``[ESSAI]``.
- ``envoi``: every pending message is sent by SMTP; refused unless a test send of the year
  succeeded. What was sent is archived byte for byte under ``envois/<annee>/envoyes/``.
- ``export``: one folder per recipient for a shared drive (``export.py``).

A message is *pending* unless the journal holds an ``envoyé`` row of the same recipient with
the same content; when it holds one with another content, the new message annule et remplace it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from dagster_project.atomic import write_bytes
from dagster_project.envoi import journal, messages
from dagster_project.envoi.adresses import reference_addresses
from dagster_project.envoi.courriel import as_bytes, write_eml
from dagster_project.envoi.export import export
from dagster_project.envoi.plan import Courrier, plan_year
from dagster_project.envoi.smtp import Postman, SmtpSettings
from dagster_project.settings import Paths, paths

MODES = ("brouillon", "essai", "envoi", "export")


class DeliveryError(RuntimeError):
    """The run cannot start (French message for the operator)."""


@dataclass
class Result:
    annee: int
    mode: str
    nb_courriers: int = 0
    brouillons: int = 0
    envoyes: int = 0
    deja_envoyes: int = 0
    remplacements: int = 0
    echecs: list[tuple[str, str]] = field(default_factory=list)  # (clé, réponse)
    sans_adresse: list[tuple[str, str]] = field(default_factory=list)  # (clé, motif)
    ecartes: list[tuple[str, str]] = field(default_factory=list)  # (clé, trame changed)
    exportes: int = 0
    essai: str = ""  # the test send's outcome
    execution: str = ""
    dossier: Path | None = None


@dataclass(frozen=True)
class Previous:
    """The last message of a recipient that was really sent."""

    message_id: str
    contenu: str
    at: dt.datetime


def last_sent(history: pl.DataFrame, annee: int) -> dict[str, Previous]:
    sent = history.filter((pl.col("statut") == journal.ENVOYE) & (pl.col("annee") == annee))
    if sent.is_empty():
        return {}
    latest = sent.sort("horodatage").group_by("cle").last()
    return {
        row["cle"]: Previous(row["message_id"], row["contenu"], row["horodatage"])
        for row in latest.iter_rows(named=True)
    }


def journaled(history: pl.DataFrame) -> set[tuple[str, str]]:
    """(message_id, statut) already recorded: a re-run records nothing twice."""
    return set(history.select("message_id", "statut").unique().iter_rows())


def listed_before(history: pl.DataFrame) -> set[tuple[str, str, str]]:
    """(cle, contenu, motif) of the recipients already journaled without an address."""
    rows = history.filter(pl.col("statut") == journal.SANS_ADRESSE)
    return set(rows.select("cle", "contenu", "reponse_smtp").unique().iter_rows())


def _sync_drafts(folder: Path, keep: set[Path]) -> None:
    """The drafts folder shows exactly the messages still pending."""
    if folder.is_dir():
        for stale in folder.rglob("*.eml"):
            if stale not in keep:
                stale.unlink()


def write_missing(target: Path, missing: list[tuple[Courrier, str]]) -> None:
    lines = ["cle;bailleur_siren;famille;code;nom;motif"]
    lines += [
        ";".join([c.cle, c.bailleur_siren, c.famille, c.code, c.nom.replace(";", ","), motif])
        for c, motif in missing
    ]
    write_bytes(target, ("\n".join(lines) + "\n").encode("utf-8"))


def deliver(
    annee: int,
    mode: str = "brouillon",
    *,
    test_to: str = "",
    settings: SmtpSettings | None = None,
    p: Paths | None = None,
    reference: dict[tuple[str, str], str] | None = None,
    clock=journal.now,
    say=lambda line: None,
) -> Result:
    if mode not in MODES:
        raise DeliveryError(f"mode inconnu : {mode}")
    p = p or paths()
    year_dir = p.trames / str(annee)
    if not (year_dir / "manifest.json").is_file():
        raise DeliveryError(
            f"Aucune trame pour {annee} dans {year_dir} : lancer d'abord la campagne "
            "(python -m dagster_project.campaign run)."
        )
    reference = reference_addresses() if reference is None else reference
    courriers = plan_year(year_dir, reference)
    root = journal.envois_dir(p.marts)
    journal.recover(root)  # a crashed run's rows count before anything is decided
    history = journal.read(root)
    if mode in ("essai", "envoi") and settings is None:
        settings = SmtpSettings.from_env()
    if mode == "essai" and not test_to:
        raise DeliveryError("Indiquer l'adresse de l'envoi d'essai (--test-a).")
    if mode == "envoi" and not _test_sent(history, annee):
        raise DeliveryError(
            f"Aucun envoi d'essai réussi pour {annee} au journal : faire d'abord "
            f"`envoyer --annee {annee} --test-a <votre adresse>` et vérifier le message reçu."
        )
    run = _Run(root / str(annee), journal.Writer.start(root), settings, clock, say,
               Result(annee=annee, mode=mode, nb_courriers=len(courriers)))
    run.result.execution = run.writer.execution
    run.result.dossier = run.out
    sent_before = last_sent(history, annee)
    pending: list[tuple[Courrier, tuple[str, dt.datetime] | None]] = []
    missing: list[tuple[Courrier, str]] = []
    for c in courriers:
        previous = sent_before.get(c.cle)
        if previous and previous.contenu == c.contenu:
            run.result.deja_envoyes += 1
        elif not c.adresses.valid:
            missing.append((c, c.adresses.motif))
        else:
            pending.append((c, (previous.message_id, previous.at) if previous else None))
    run.result.remplacements = sum(1 for _, r in pending if r)
    try:
        run.list_missing(missing, listed_before(history))
        if mode == "brouillon":
            run.drafts(pending, journaled(history))
        elif mode == "essai":
            run.test(pending or [(c, None) for c in courriers if c.adresses.valid], test_to)
        elif mode == "envoi":
            run.send(pending)
        else:
            run.result.exportes = export(courriers, run.out / "export", run.writer,
                                         journaled(history), clock)
    finally:
        run.writer.close()
    return run.result


def _test_sent(history: pl.DataFrame, annee: int) -> bool:
    return not history.filter(
        (pl.col("statut") == journal.ESSAI) & (pl.col("annee") == annee)
    ).is_empty()


@dataclass
class _Run:
    out: Path  # envois/<annee>
    writer: journal.Writer
    settings: SmtpSettings | None
    clock: Callable[[], dt.datetime]
    say: Callable[[str], None]
    result: Result

    @property
    def sender(self) -> str:
        return self.settings.sender if self.settings else messages.DEFAULT_SENDER

    def draft_path(self, c: Courrier) -> Path:
        return self.out / "brouillons" / c.bailleur_siren / f"{c.slug}.eml"

    def message(self, c: Courrier, replaces, at: dt.datetime, essai_to: str = ""):
        """(Message-ID, message), or None when a trame changed since the manifest (listed)."""
        essai = f"{essai_to} {at.isoformat()}" if essai_to else ""  # a test send: a new id
        msg_id = messages.message_id(c, self.sender, replaces[0] if replaces else "", essai)
        try:
            return msg_id, messages.build(
                c, sender=self.sender, date=at, msg_id=msg_id, replaces=replaces,
                essai_to=essai_to, reply_to=self.settings.reply_to if self.settings else "",
            )
        except messages.AlteredTrame as exc:
            self.result.ecartes.append((c.cle, str(exc)))
            return None

    def list_missing(self, missing: list[tuple[Courrier, str]], listed) -> None:
        now = self.clock()
        for c, motif in missing:
            self.result.sans_adresse.append((c.cle, motif))
            if (c.cle, c.contenu, motif) not in listed:  # not a message: no Message-ID
                self.writer.record(journal.rows(c, statut=journal.SANS_ADRESSE, at=now,
                                                reponse=motif, adresse=""))
        write_missing(self.out / "sans_adresse.csv", missing)

    def drafts(self, pending, seen: set[tuple[str, str]]) -> None:
        written = set()
        for c, replaces in pending:
            at = self.clock()
            built = self.message(c, replaces, at)
            if built is None:
                continue
            msg_id, message = built
            path = self.draft_path(c)
            write_eml(path, message)
            written.add(path)
            self.result.brouillons += 1
            if (msg_id, journal.BROUILLON) not in seen:
                self.writer.record(journal.rows(
                    c, statut=journal.BROUILLON, at=at, message_id=msg_id,
                    objet=str(message["Subject"]), replaces=replaces[0] if replaces else "",
                    eml=str(path.relative_to(self.out.parent)),
                ))
        _sync_drafts(self.out / "brouillons", written)

    def test(self, candidates, test_to: str) -> None:
        for c, replaces in candidates:
            at = self.clock()
            built = self.message(c, replaces, at, essai_to=test_to)
            if built is not None:
                break
        else:
            raise DeliveryError("Aucun message avec une adresse à essayer pour cette année.")
        msg_id, message = built
        with Postman(self.settings) as postman:
            outcome = postman.send(message, [test_to])
        self.writer.record(journal.rows(
            c, statut=journal.ESSAI if outcome.sent else journal.ECHEC, at=at,
            message_id=msg_id, objet=str(message["Subject"]), reponse=outcome.reply,
            adresse=test_to,
        ))
        self.result.essai = ("réussi" if outcome.sent else "ÉCHEC") + f" : {outcome.reply}"

    def send(self, pending) -> None:
        with Postman(self.settings) as postman:
            for i, (c, replaces) in enumerate(pending, start=1):
                at = self.clock()
                built = self.message(c, replaces, at)
                if built is None:
                    continue
                msg_id, message = built
                outcome = postman.send(message, list(c.adresses.valid))
                eml = ""
                if outcome.sent:
                    archive = self.out / "envoyes" / f"{at:%Y%m%dT%H%M%S}_{c.slug}.eml"
                    write_bytes(archive, as_bytes(message))  # the exact bytes sent
                    eml = str(archive.relative_to(self.out.parent))
                    self.result.envoyes += 1
                    self.draft_path(c).unlink(missing_ok=True)  # no longer pending
                else:
                    self.result.echecs.append((c.cle, outcome.reply))
                self.writer.record(journal.rows(
                    c, statut=journal.ENVOYE if outcome.sent else journal.ECHEC, at=at,
                    message_id=msg_id, objet=str(message["Subject"]), reponse=outcome.reply,
                    replaces=replaces[0] if replaces else "", eml=eml,
                ))
                self.say(f"  [{i}/{len(pending)}] {'envoyé' if outcome.sent else 'ÉCHEC'} "
                         f"{c.cle} → {', '.join(c.adresses.valid)} ({outcome.reply})")
