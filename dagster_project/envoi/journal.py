"""The journal of deliveries (``envois``): append-only Parquet, one row per attached file.

Every run appends; nothing is ever rewritten or deleted. A run first writes its rows to a
line-per-message file in ``.en_cours/`` (flushed as each message goes out, so a crash never
loses the trace of a message already sent), then turns it into one Parquet part. A run that
finds such a leftover file (a crashed run) converts it first. The catalog's view ``envois``
reads every part (`publish.py`), so the SQL answer is always the current one.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from dagster_project.atomic import write_parquet
from dagster_project.envoi.plan import Courrier

BROUILLON = "brouillon"
ENVOYE = "envoyé"
ECHEC = "échec"
SANS_ADRESSE = "sans adresse"
ESSAI = "essai"
EXPORTE = "exporté"

SCHEMA = {
    "annee": pl.Int64,
    "bailleur_siren": pl.String,
    "famille": pl.String,  # RESERVATAIRE, EPCI_EPT, ETAT
    "destinataire_code": pl.String,
    "destinataire_nom": pl.String,
    "cle": pl.String,  # <annee>/<siren>/<famille>/<code>: the recipient across runs
    "adresse": pl.String,  # the addresses the message went (or would go) to, ", "-joined
    "statut": pl.String,
    "reponse_smtp": pl.String,  # the server's last reply, or why it was not sent
    "message_id": pl.String,
    "objet": pl.String,
    "remplace_message_id": pl.String,  # the message this one annule et remplace
    "contenu": pl.String,  # hash of the attached contents (plan.Courrier.contenu)
    "fichier": pl.String,  # the trame, relative to trames/<annee>/
    "piece_jointe": pl.String,  # its name in the message
    "sha256": pl.String,
    "empreinte": pl.String,  # the trame's content fingerprint (manifest)
    "run_id_trame": pl.String,  # the Dagster run that wrote the trame
    "fichier_eml": pl.String,  # the message as written or sent, relative to envois/
    "horodatage": pl.Datetime("us", "UTC"),
    "execution": pl.String,  # this delivery run
}
PENDING = ".en_cours"
SCHEMA_FILE = "_schema.parquet"


def envois_dir(marts: Path) -> Path:
    """Everything the delivery writes: ``<annee>/`` (drafts, sent, export) and ``journal/``."""
    return marts / "envois"


def journal_dir(envois: Path) -> Path:
    return envois / "journal"


def ensure_schema(envois: Path) -> Path:
    """The zero-row part that fixes the schema, so the view reads even before any run.
    Returns the glob of every part."""
    root = journal_dir(envois)
    if not (root / SCHEMA_FILE).is_file():
        write_parquet(pl.DataFrame(schema=SCHEMA), root / SCHEMA_FILE)
    return root / "*.parquet"


def read(envois: Path) -> pl.DataFrame:
    files = sorted(journal_dir(envois).glob("*.parquet"))
    if not files:
        return pl.DataFrame(schema=SCHEMA)
    return pl.concat([pl.read_parquet(f) for f in files], how="diagonal_relaxed")


@dataclass
class Writer:
    """Rows of one delivery run: each message's rows are flushed to disk when recorded."""

    envois: Path
    execution: str

    @classmethod
    def start(cls, envois: Path) -> Writer:
        recover(envois)
        ensure_schema(envois)
        return cls(envois, uuid.uuid4().hex)

    @property
    def pending(self) -> Path:
        return journal_dir(self.envois) / PENDING / f"{self.execution}.jsonl"

    def record(self, rows: Iterable[dict]) -> None:
        self.pending.parent.mkdir(parents=True, exist_ok=True)
        with self.pending.open("a", encoding="utf-8") as fh:
            for row in rows:
                fh.write(json.dumps({**row, "execution": self.execution}, default=str) + "\n")
            fh.flush()
            os.fsync(fh.fileno())

    def close(self) -> int:
        return _seal(self.pending)


def _seal(pending: Path) -> int:
    """Turn a run's pending rows into one immutable Parquet part; the number of rows."""
    if not pending.is_file():
        return 0
    lines = [json.loads(line) for line in pending.read_text(encoding="utf-8").splitlines() if line]
    if lines:
        frame = pl.DataFrame(
            [{k: row.get(k) for k in SCHEMA} for row in lines],
            schema={k: (pl.String if k == "horodatage" else v) for k, v in SCHEMA.items()},
        ).with_columns(pl.col("horodatage").str.to_datetime(time_zone="UTC", time_unit="us"))
        first = frame["horodatage"].min()
        write_parquet(frame, pending.parent.parent / f"{first:%Y%m%dT%H%M%S%f}_{pending.stem[:12]}.parquet")
    pending.unlink()
    return len(lines)


def recover(envois: Path) -> int:
    """Seal the pending rows a crashed run left behind."""
    folder = journal_dir(envois) / PENDING
    return sum(_seal(p) for p in sorted(folder.glob("*.jsonl"))) if folder.is_dir() else 0


def rows(c: Courrier, *, statut: str, at: dt.datetime, message_id: str = "", objet: str = "",
         reponse: str = "", adresse: str | None = None, replaces: str = "", eml: str = "") -> list[dict]:
    return [
        {
            "annee": c.annee,
            "bailleur_siren": c.bailleur_siren,
            "famille": c.famille,
            "destinataire_code": c.code,
            "destinataire_nom": c.nom,
            "cle": c.cle,
            "adresse": ", ".join(c.adresses.valid) if adresse is None else adresse,
            "statut": statut,
            "reponse_smtp": reponse,
            "message_id": message_id,
            "objet": objet,
            "remplace_message_id": replaces,
            "contenu": c.contenu,
            "fichier": p.entry.file,
            "piece_jointe": p.name,
            "sha256": p.entry.sha256,
            "empreinte": p.entry.fingerprint,
            "run_id_trame": p.entry.run_id,
            "fichier_eml": eml,
            "horodatage": at.isoformat(),
        }
        for p in c.pieces
    ]


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
