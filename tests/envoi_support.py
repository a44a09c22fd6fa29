"""Shared by the envoi tests: a synthetic campaign's trames and a real local SMTP server."""

from __future__ import annotations

import datetime as dt
import email
import io
import re
import shutil
import socket
import zipfile
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from trames_synthetic import synthetic_marts, write_marts

from dagster_project.settings import Paths
from dagster_project.trames.campaign import generate_trames
from dagster_project.trames.manifest import read_manifest

ANNEE = 2024
NOW = dt.datetime(2025, 3, 5, 9, 0, tzinfo=dt.UTC)
ADDRESS = re.compile(rb"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")


def build_campaign(root: Path, n_bailleurs: int = 3, seed: int = 11) -> Paths:
    """Synthetic marts (contracts §3) → real trames under ``root/data/marts/trames``."""
    p = Paths(data=root / "data", landing=root / "data" / "raw")
    write_marts(synthetic_marts(n_bailleurs, seed=seed), p.marts)
    generate_trames(p.marts, p.trames, "run-trames-1", workers=1, now=NOW.replace(tzinfo=None))
    return p


@pytest.fixture(scope="module")
def campaign(tmp_path_factory) -> Paths:
    """Built once per test module (import this fixture and ``p`` into the module)."""
    return build_campaign(tmp_path_factory.mktemp("envoi-campagne"))


@pytest.fixture
def p(campaign: Paths, tmp_path: Path) -> Paths:
    """A private copy of the campaign's marts and trames: each test has its own journal."""
    shutil.copytree(campaign.data, tmp_path / "data")
    return Paths(data=tmp_path / "data", landing=tmp_path / "data" / "raw")


def reference_for(p: Paths, without: set[str] = frozenset()) -> dict[tuple[str, str], str]:
    """A ref_destinataires for the campaign's State services, minus the codes in ``without``."""
    entries = read_manifest(p.trames / str(ANNEE)).values()
    return {
        ("ETAT", e.recipient_code): f"etat-{e.recipient_code}@services.test"
        for e in entries
        if e.kind == "ETAT" and e.recipient_code not in without
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage


@dataclass
class Handler:
    """aiosmtpd handler: keeps every message; can answer 4xx a few times, or 5xx to some."""

    received: list[Received] = field(default_factory=list)
    temporary_failures: int = 0  # DATA answered 451 this many times, then accepted
    refused: set[str] = field(default_factory=set)  # RCPT answered 550
    data_attempts: int = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refused:
            return "550 5.1.1 Boîte inconnue"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.data_attempts += 1
        if self.temporary_failures > 0:
            self.temporary_failures -= 1
            return "451 4.3.0 Serveur occupe, reessayez plus tard"
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), message))
        return f"250 2.0.0 Ok: queued as Q{len(self.received):04d}"


def smtp_env(port: int, **extra: str) -> dict[str, str]:
    return {
        "FLUX_SMTP_HOST": "127.0.0.1",
        "FLUX_SMTP_PORT": str(port),
        "FLUX_SMTP_SECURITY": "aucune",
        "FLUX_SMTP_FROM": "Équipe régionale <bilans@region.test>",
        "FLUX_SMTP_RATE": "6000",
        "FLUX_SMTP_BACKOFF_S": "0.01",
        "FLUX_SMTP_TIMEOUT_S": "10",
        **extra,
    }


def start_server(handler: Handler, **smtp_options) -> tuple[Controller, int]:
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, **smtp_options)
    controller.start()
    return controller, port


def attachment_texts(message: EmailMessage) -> dict[str, str]:
    """Every attachment's name → the text it carries (an xlsx's XML parts, decoded)."""
    texts = {}
    for part in message.iter_attachments():
        data = part.get_payload(decode=True)
        if zipfile.is_zipfile(io.BytesIO(data)):
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                texts[part.get_filename()] = "\n".join(
                    z.read(n).decode("utf-8", "replace") for n in z.namelist() if n.endswith(".xml")
                )
        else:
            texts[part.get_filename()] = data.decode("utf-8", "replace")
    return texts


def addresses_in(message: EmailMessage) -> set[str]:
    """Every e-mail address anywhere in the message: headers, both bodies, inside attachments."""
    found = {m.decode().lower() for m in ADDRESS.findall(message.as_bytes())}
    for part in message.walk():
        if part.get_content_maintype() == "text":
            found |= {m.lower() for m in re.findall(ADDRESS.pattern.decode(), part.get_content())}
    for text in attachment_texts(message).values():
        found |= {m.lower() for m in re.findall(ADDRESS.pattern.decode(), text)}
    return found
