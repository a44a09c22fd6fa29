"""Drafts (the default mode): isolation proven on every generated message, recipients without
an address listed, nothing journaled twice, the platform export, the journal in the catalog."""

from __future__ import annotations

import email
import hashlib
import io
from email import policy
from pathlib import Path

import duckdb
import openpyxl
import polars as pl
import pytest
from envoi_support import (  # noqa: F401  (campaign, p: fixtures)
    ANNEE,
    addresses_in,
    campaign,
    p,
    reference_for,
    smtp_env,
)

from dagster_project.envoi import journal
from dagster_project.envoi.delivery import deliver
from dagster_project.envoi.plan import FAMILLES, plan_year
from dagster_project.envoi.smtp import SmtpSettings
from dagster_project.publish import build_catalog
from dagster_project.settings import Paths
from dagster_project.trames.manifest import read_manifest

WITHOUT = {"91"}  # a State service the reference has no address for


@pytest.fixture
def drafted(p: Paths):
    reference = reference_for(p, without=WITHOUT)
    result = deliver(ANNEE, p=p, reference=reference)
    return p, reference, result


def _drafts(p: Paths) -> dict[Path, email.message.EmailMessage]:
    folder = journal.envois_dir(p.marts) / str(ANNEE) / "brouillons"
    return {
        f: email.message_from_bytes(f.read_bytes(), policy=policy.default)
        for f in sorted(folder.rglob("*.eml"))
    }


def _cover(data: bytes) -> dict[str, str]:
    sheet = openpyxl.load_workbook(io.BytesIO(data), read_only=True)["Page de garde"]
    return {str(r[0]): str(r[1]) for r in sheet.iter_rows(values_only=True) if r and r[0]}


def test_each_message_carries_only_its_recipients_trames_and_addresses(drafted):
    p, reference, result = drafted
    year_dir = p.trames / str(ANNEE)
    courriers = {c.cle: c for c in plan_year(year_dir, reference)}
    everyone = {a for c in courriers.values() for a in c.adresses.valid}
    manifest = read_manifest(year_dir).values()
    drafts = _drafts(p)
    assert len(drafts) == result.brouillons > 0
    for path, message in drafts.items():
        annee, siren, code = message["X-Flux-Annee"], message["X-Flux-Bailleur"], message["X-Flux-Destinataire"]
        c = courriers[f"{annee}/{siren}/{code}"]
        to = {a.strip() for a in str(message["To"]).split(",")}
        assert to == set(c.adresses.valid), path
        # attachments: exactly this recipient's trames of this bailleur, byte for byte
        famille = code.split("/")[0]
        expected = {
            e.sha256 for e in manifest
            if (e.bailleur_siren, e.recipient_code, FAMILLES.get(e.kind)) == (siren, c.code, famille)
        }
        attached = {}
        for part in message.iter_attachments():
            data = part.get_payload(decode=True)
            attached[hashlib.sha256(data).hexdigest()] = data
            cover = _cover(data)  # and its figures are this recipient's, for this bailleur
            assert cover["Code du destinataire"] == c.code, path
            assert cover["Bailleur (SIREN)"] == siren, path
        assert set(attached) == expected and len(expected) == len(c.pieces), path
        # no address of another recipient anywhere: headers, text, HTML, inside the workbooks
        leaked = (addresses_in(message) & everyone) - set(c.adresses.valid)
        assert not leaked, (path, leaked)
        assert f"Bilan {ANNEE}" in message["Subject"] and siren in message["Subject"]
        assert c.nom in message["Subject"]


def test_no_recipient_is_skipped_silently(drafted):
    p, reference, result = drafted
    courriers = plan_year(p.trames / str(ANNEE), reference)
    listed = pl.read_csv(
        journal.envois_dir(p.marts) / str(ANNEE) / "sans_adresse.csv", separator=";", infer_schema=False
    )
    assert result.brouillons + listed.height == len(courriers)
    assert {f"{ANNEE}/" in k for k in listed["cle"]} == {True}
    etat_91 = listed.filter(pl.col("famille") == "ETAT")
    assert etat_91["code"].to_list() == ["91"] * etat_91.height and etat_91.height >= 1
    assert "ref_destinataires" in etat_91["motif"][0]
    # réservataires without an e-mail in their conventions are listed too
    assert (listed["famille"] == "RESERVATAIRE").any()
    rows = journal.read(journal.envois_dir(p.marts))
    assert set(rows.filter(pl.col("statut") == journal.SANS_ADRESSE)["cle"]) == set(listed["cle"])


def test_a_rerun_rewrites_the_same_drafts_and_journals_nothing_twice(drafted):
    p, reference, first = drafted
    before = {f: f.read_bytes() for f in _drafts(p)}
    rows_before = journal.read(journal.envois_dir(p.marts)).height
    second = deliver(ANNEE, p=p, reference=reference)
    assert second.brouillons == first.brouillons
    assert journal.read(journal.envois_dir(p.marts)).height == rows_before
    after = _drafts(p)
    assert set(after) == set(before)
    for f, message in after.items():  # same Message-ID: the same message, drafted again
        old = email.message_from_bytes(before[f], policy=policy.default)
        assert message["Message-ID"] == old["Message-ID"]


def test_recipients_without_address_are_journaled_once_whatever_the_sender(drafted):
    """Regression: their rows were keyed by a Message-ID derived from the sender's domain, so
    setting FLUX_SMTP_FROM after a first run listed every one of them a second time."""
    p, reference, first = drafted
    settings = SmtpSettings.from_env(smtp_env(25))
    deliver(ANNEE, p=p, reference=reference, settings=settings)
    rows = journal.read(journal.envois_dir(p.marts)).filter(pl.col("statut") == journal.SANS_ADRESSE)
    assert rows["cle"].n_unique() == len(first.sans_adresse)
    assert rows.height == rows.select("cle", "fichier").n_unique()


def test_the_catalog_answers_who_has_which_sha256(drafted):
    p, _, _ = drafted
    build_catalog(p.catalog, {})  # no year published: the journal's live view only
    entry = next(e for e in read_manifest(p.trames / str(ANNEE)).values() if e.kind == "RESERVATAIRE" and e.email)
    with duckdb.connect(str(p.catalog), read_only=True) as con:
        rows = con.execute(
            "select destinataire_code, adresse, statut, message_id, run_id_trame from envois "
            "where sha256 = ? order by horodatage", [entry.sha256]
        ).fetchall()
    assert rows, "the journal has the draft of this trame"
    code, adresse, statut, message_id, run_id = rows[-1]
    assert (code, statut, run_id) == (entry.recipient_code, journal.BROUILLON, "run-trames-1")
    assert entry.email.split(",")[0].strip().lower() in adresse and message_id.startswith("<")


def test_export_gives_one_folder_per_recipient_with_an_index(p: Paths):
    reference = reference_for(p, without=WITHOUT)
    result = deliver(ANNEE, "export", p=p, reference=reference)
    root = journal.envois_dir(p.marts) / str(ANNEE) / "export"
    folders = sorted(d for d in root.iterdir() if d.is_dir())
    assert len(folders) == result.exportes > 0
    manifest = {e.sha256: e for e in read_manifest(p.trames / str(ANNEE)).values()}
    for folder in folders:
        index = (folder / "LISEZMOI.txt").read_text(encoding="utf-8")
        files = [f for f in folder.rglob("*.xlsx")]
        assert files
        codes = set()
        for f in files:
            sha = hashlib.sha256(f.read_bytes()).hexdigest()
            assert sha in manifest and sha in index and f.name in index
            codes.add(manifest[sha].recipient_code)
        assert len(codes) == 1, folder  # one recipient's files only
    exported = journal.read(journal.envois_dir(p.marts)).filter(pl.col("statut") == journal.EXPORTE)
    assert exported["sha256"].n_unique() == sum(1 for _ in root.rglob("*.xlsx"))


def test_the_dagster_asset_writes_drafts_and_stays_out_of_the_campaign(p: Paths, monkeypatch):
    import dagster as dg

    from dagster_project.defs.automation.definitions import CAMPAIGN_SELECTION
    from dagster_project.defs.envoi.definitions import envois_brouillons

    monkeypatch.setenv("FLUX_DATA_DIR", str(p.data))
    result = dg.materialize([envois_brouillons], instance=dg.DagsterInstance.ephemeral())
    assert result.success
    metadata = result.asset_materializations_for_node("envois_brouillons")[0].metadata
    assert metadata["annee"].value == ANNEE and metadata["nb_brouillons"].value > 0
    assert _drafts(p)
    graph = dg.Definitions(assets=[envois_brouillons]).resolve_asset_graph()
    assert not CAMPAIGN_SELECTION.resolve(graph)


def test_the_command_line_writes_drafts_and_explains_failures(p: Paths, monkeypatch, capsys):
    from dagster_project.campaign import main

    monkeypatch.setenv("FLUX_DATA_DIR", str(p.data))
    assert main(["envoyer", "--annee", str(ANNEE)]) == 0
    out = capsys.readouterr().out
    assert "brouillon(s) écrit(s)" in out and "SANS ADRESSE" in out
    assert main(["envoyer", "--annee", "2031"]) == 1
    assert "Envoi impossible : Aucune trame pour 2031" in capsys.readouterr().out
    for var in ("FLUX_SMTP_HOST", "FLUX_SMTP_FROM"):
        monkeypatch.delenv(var, raising=False)
    assert main(["envoyer", "--annee", str(ANNEE), "--envoyer"]) == 1
    assert "FLUX_SMTP_HOST" in capsys.readouterr().out


def test_a_trame_changed_since_the_manifest_is_set_aside_not_attached(p: Paths):
    reference = reference_for(p, without=WITHOUT)
    c = next(c for c in plan_year(p.trames / str(ANNEE), reference) if c.adresses.valid)
    c.pieces[0].path.write_bytes(b"rewritten by a campaign still running")
    result = deliver(ANNEE, p=p, reference=reference)
    assert [cle for cle, _ in result.ecartes] == [c.cle]
    assert "a changé depuis le manifeste" in result.ecartes[0][1]
    drafts = {m["X-Flux-Bailleur"] + m["X-Flux-Destinataire"] for m in _drafts(p).values()}
    assert c.bailleur_siren + f"{c.famille}/{c.code}" not in drafts
    assert c.cle not in set(journal.read(journal.envois_dir(p.marts))["cle"])
