"""Messages built from hostile recipient names and codes (they come from bailleurs' files):
a property over random strings, plus the named cases that used to crash."""

from __future__ import annotations

import datetime as dt
import email
import hashlib
import random
from email import policy
from pathlib import Path

import pytest

from dagster_project.envoi import messages
from dagster_project.envoi.adresses import Adresses
from dagster_project.envoi.courriel import header_text
from dagster_project.envoi.plan import Courrier, Piece
from dagster_project.trames.manifest import Entry

HOSTILE = "aé Ÿ'\"<>@,;:=?_-\n\r\t\x00\x0b\u2028\u202e🏠=?utf-8?q?"
CASES = 200


def _courrier(tmp_path: Path, nom: str, code: str) -> Courrier:
    trame = tmp_path / "t.xlsx"
    trame.write_bytes(b"PK fake workbook bytes")
    sha = hashlib.sha256(trame.read_bytes()).hexdigest()
    entry = Entry(file="1/reservataires/x.xlsx", kind="RESERVATAIRE", annee=2024,
                  bailleur_siren="123456789", recipient_code=code, recipient_nom=nom,
                  departement="75", territoire="", email="a@b.fr", sha256=sha, nb_figures=1,
                  fingerprint="f", run_id="r", generated_at="", input_digest="")
    return Courrier(2024, "123456789", "RESERVATAIRE", code, nom, Adresses(("a@b.fr",)),
                    (Piece(entry, trame),))


def _roundtrip(c: Courrier) -> email.message.EmailMessage:
    at = dt.datetime(2025, 3, 5, 9, tzinfo=dt.UTC)
    message = messages.build(c, sender=messages.DEFAULT_SENDER, date=at,
                             msg_id=messages.message_id(c, messages.DEFAULT_SENDER),
                             replaces=("<old@x>", at))
    return email.message_from_bytes(message.as_bytes(), policy=policy.default)


def test_any_recipient_name_gives_a_well_formed_message(tmp_path):
    rng = random.Random(20)
    for _ in range(CASES):
        nom = "".join(rng.choice(HOSTILE) for _ in range(rng.randint(0, 40)))
        code = "".join(rng.choice(HOSTILE) for _ in range(rng.randint(1, 12)))
        parsed = _roundtrip(_courrier(tmp_path, nom, code))
        assert parsed["To"] == "a@b.fr" and parsed["Bcc"] is None and parsed["Cc"] is None
        assert header_text(nom) in str(parsed["Subject"])
        (attachment,) = parsed.iter_attachments()
        name = attachment.get_filename()
        assert "/" not in name and "\n" not in name and name.endswith(".xlsx")


@pytest.mark.parametrize("nom", ["Ville de\nParis", "A\r\nBcc: x@evil.example", "\u2028nom"])
def test_a_name_on_two_lines_no_longer_stops_the_delivery(tmp_path, nom):
    """Regression: a line break in a réservataire's name raised ValueError in the Subject."""
    parsed = _roundtrip(_courrier(tmp_path, nom, "C1"))
    assert parsed["Bcc"] is None
    assert "\n" not in str(parsed["Subject"])
