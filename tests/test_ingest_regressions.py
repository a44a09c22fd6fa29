"""Named regressions of issue #14: each drop below broke the campaign or was accepted wrongly.

Every test drops the file as a bailleur would and ingests the landing folder; each one failed
before the fix (stopped campaign, no verdict, or a wrong verdict).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
import struct
import time
import zipfile
from pathlib import Path

import openpyxl
import pytest
import polars as pl

from ingest_samples import ANNEE, SIREN, anomalies, csv_text, ingest, rules, sheets, write_csv, write_workbook

from dagster_project.ingest import pipeline

OTHER_SIREN = "404279457"


def _conventions(name: str, siren: str = "824541148") -> list[list[str]]:
    header, *_ = sheets()["conventions"]
    return [header, ["ALS", name, "ACTION_LOGEMENT", siren, "DEPARTEMENT", "93", "30"]]


def _rapport_rows(f) -> list[list[str]]:
    ws = openpyxl.load_workbook(f.rapport, read_only=True).active
    return [[c for c in row if c is not None] for row in ws.iter_rows(values_only=True)]


def test_binary_junk_csv_gets_a_verdict_and_a_rapport(workspace):
    junk = bytes(b for b in range(1, 256) if b not in b'"\n\r') * 40
    (workspace.landing / f"{SIREN}_{ANNEE}_tours.csv").write_bytes(junk.replace(b"\x40", b";\n"))
    (f,) = ingest(workspace).values()
    assert f.statut == "REJETE" and Path(f.rapport).is_file()
    assert all(not any(ord(ch) < 32 and ch not in "\t\n\r" for ch in str(v))
               for row in _rapport_rows(f) for v in row)


def test_utf16_texte_unicode_export_is_read(workspace):
    text = csv_text(sheets()["logements"], sep="\t").replace("\n", "\r\n")
    (workspace.landing / f"{SIREN}_{ANNEE}_logements.csv").write_bytes(text.encode("utf-16"))
    (f,) = ingest(workspace).values()
    assert f.statut == "ACCEPTE" and f.lignes == {"logements": 3}


def test_control_characters_in_a_reservataire_name_never_reach_the_store(workspace):
    write_csv(workspace.landing, "conventions", _conventions("Action\x0bLogement\x01 Services"))
    (f,) = ingest(workspace).values()
    assert f.statut == "ACCEPTE_AVEC_AVERTISSEMENTS" and rules(workspace, f.version) == {"TEXTE_INVISIBLE"}
    stored = pl.read_parquet(workspace.raw_store / "conventions" / f"{f.version}.parquet")
    assert stored["reservataire_nom"].to_list() == ["ActionLogement Services"]


def test_a_copy_under_another_siren_is_an_error_and_the_original_is_still_ingested(workspace):
    original = write_workbook(workspace.landing / f"{SIREN}_{ANNEE}.xlsx")
    copy = workspace.landing / f"{OTHER_SIREN}_{ANNEE}.xlsx"
    copy.write_bytes(original.read_bytes())
    os.utime(original, (time.time() - 60, time.time() - 60))  # the original was dropped first
    summary = ingest(workspace)
    assert summary[original.name].statut == "ACCEPTE"
    assert summary[copy.name].statut == "REJETE"
    found = anomalies(workspace, summary[copy.name].version)
    assert found["regle"].to_list() == ["FICHIER_COPIE_AUTRE_BAILLEUR"]
    assert original.name in found["message"][0] and SIREN in found["message"][0]


def test_misnamed_copies_get_their_own_verdict_and_never_hide_the_valid_file(workspace):
    valid = write_workbook(workspace.landing / f"{SIREN}_{ANNEE}.xlsx")
    for name in ("bilan final.xlsx", f"{SIREN}_{ANNEE}.xlsm", f"{SIREN}_{ANNEE} (1).xlsx"):
        (workspace.landing / name).write_bytes(valid.read_bytes())
        os.utime(workspace.landing / name, (time.time() - 60, time.time() - 60))  # seen first
    summary = ingest(workspace)
    assert {c: f.statut for c, f in summary.items()} == {
        valid.name: "ACCEPTE_AVEC_AVERTISSEMENTS",  # FICHIER_COPIE: same bytes, same bailleur
        "bilan final.xlsx": "REJETE",
        f"{SIREN}_{ANNEE}.xlsm": "REJETE",
        f"{SIREN}_{ANNEE} (1).xlsx": "ACCEPTE",
    }
    assert len({f.rapport for f in summary.values()}) == 4


def _lying_bomb(declared: int = 1000) -> bytes:
    """A workbook with an entry of 300 MB of zeros whose headers declare ``declared`` bytes."""
    base, buffer = io.BytesIO(), io.BytesIO()
    openpyxl.Workbook().save(base)
    name = "xl/media/image1.png"
    with zipfile.ZipFile(base) as src, zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for info in src.infolist():
            zf.writestr(info, src.read(info))
        with zf.open(name, "w") as out:
            for _ in range(300):
                out.write(bytes(1 << 20))
    data = bytearray(buffer.getvalue())
    local = data.index(name.encode()) - 30
    central = data.index(name.encode(), local + 30 + len(name)) - 46
    assert data[local:local + 4] == b"PK\x03\x04" and data[central:central + 4] == b"PK\x01\x02"
    data[local + 22:local + 26] = data[central + 24:central + 28] = struct.pack("<I", declared)
    return bytes(data)


def test_zip_bomb_with_lying_headers_is_rejected_within_the_cap(workspace, monkeypatch):
    monkeypatch.setenv("FLUX_MAX_UNZIPPED_MB", "64")
    (workspace.landing / f"{SIREN}_{ANNEE}.xlsx").write_bytes(_lying_bomb())
    (f,) = ingest(workspace).values()
    found = anomalies(workspace, f.version)
    assert f.statut == "REJETE" and found["regle"].to_list() == ["FICHIER_ARCHIVE_SUSPECTE"]
    assert "plus de 64 Mo" in found["message"][0]


def test_two_digit_years_and_impossible_dates_are_rejected_precisely(workspace):
    header, first, *rest = sheets()["tours"]
    first[2], rest[0][6] = "01/02/24", "31/02/2024"
    write_csv(workspace.landing, "tours", [header, first, *rest])
    write_csv(workspace.landing, "logements", sheets()["logements"])
    (f,) = [f for c, f in ingest(workspace).items() if "tours" in c]
    found = anomalies(workspace, f.version).select("ligne", "valeur", "regle").rows()
    assert (2, "01/02/24", "DATE_ANNEE_DEUX_CHIFFRES") in found
    assert (3, "31/02/2024", "DATE_IMPOSSIBLE") in found
    assert not any(r[2] == "FORMAT_INVALIDE" for r in found)


def test_non_ascii_digits_in_siren_year_and_codes_are_rejected(workspace):
    arabic = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
    write_csv(workspace.landing, "logements", sheets()["logements"], siren=SIREN.translate(arabic))
    header, row, *_ = sheets()["logements"]
    row[5] = "1990".translate(arabic)
    row[1] = "93066".translate(arabic)
    write_csv(workspace.landing / "b", "logements", [header, row])
    summary = ingest(workspace)
    unidentified = summary[f"{SIREN.translate(arabic)}_{ANNEE}_logements.csv"]
    assert unidentified.partition is None and rules(workspace, unidentified.version) == {"FICHIER_NOM"}
    f = summary[f"b/{SIREN}_{ANNEE}_logements.csv"]
    found = anomalies(workspace, f.version).filter(pl.col("regle") == "CHIFFRES_NON_ASCII")
    assert f.statut == "REJETE" and sorted(found["colonne"]) == ["annee_construction", "commune_insee"]


def test_formula_without_cached_value_is_named(workspace):
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in sheets().items():
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append(row)
    wb["logements"]["D2"] = "=1+2"  # openpyxl stores no cached value
    wb.save(workspace.landing / f"{SIREN}_{ANNEE}.xlsx")
    (f,) = ingest(workspace).values()
    found = anomalies(workspace, f.version).filter(pl.col("regle") == "FORMULE_SANS_VALEUR")
    assert f.statut == "REJETE" and found.select("feuille", "ligne", "valeur").rows() == [("logements", 2, "D2")]


def test_ten_megabyte_cell_is_rejected_and_quoted_short(workspace):
    write_csv(workspace.landing, "conventions", _conventions("x" * 10_000_000))
    (f,) = ingest(workspace).values()
    found = anomalies(workspace, f.version).filter(pl.col("regle") == "TEXTE_TROP_LONG")
    assert f.statut == "REJETE" and found["colonne"].to_list() == ["reservataire_nom"]
    assert found["message"][0] == ("La valeur est trop longue (au moins 32767 caractères ; la colonne "
                                   "en accepte au plus 200).")
    assert Path(f.rapport).stat().st_size < 100_000


def test_reservataire_siren_key_is_checked_la_poste_excepted(workspace):
    header, *_ = sheets()["conventions"]
    rows = [header, ["ALS", "ALS", "ACTION_LOGEMENT", "824541149", "DEPARTEMENT", "93", "30"],
            ["POSTE", "La Poste", "AUTRE", "356000000", "DEPARTEMENT", "93", "10"]]
    write_csv(workspace.landing, "conventions", rows)
    (f,) = ingest(workspace).values()
    found = anomalies(workspace, f.version).select("ligne", "valeur", "regle").rows()
    assert found == [(2, "824541149", "SIREN_CLE")]


def test_commune_outside_ile_de_france_is_an_error_with_its_row(workspace):
    header, first, *rest = sheets()["logements"]
    rest[1][1] = "69123"
    write_csv(workspace.landing, "logements", [header, first, *rest])
    (f,) = ingest(workspace).values()
    found = anomalies(workspace, f.version).select("ligne", "valeur", "regle", "gravite").rows()
    assert f.statut == "REJETE" and found == [(4, "69123", "COMMUNE_HORS_IDF", "ERREUR")]


def test_a_code_of_an_earlier_year_is_not_said_to_be_outside_ile_de_france(workspace):
    """Regression: a commune code valid in an earlier year only (Dommerville 28131, part of
    Angerville 91016 since 1974) was reported as « pas une commune d'Île-de-France »; a code
    outside the region keeps that message, without a word about the year."""
    header, first, second, *rest = sheets()["logements"]
    first[1], second[1] = "28131", "69123"
    write_csv(workspace.landing, "logements", [header, first, second, *rest])
    (f,) = ingest(workspace).values()
    found = {r["valeur"]: r for r in anomalies(workspace, f.version).to_dicts()}
    assert {v: r["regle"] for v, r in found.items()} == {
        "28131": "COMMUNE_CODE_PERIME", "69123": "COMMUNE_HORS_IDF"}
    expired, outside = found["28131"]["message"], found["69123"]["message"]
    assert "Angerville (91016)" in expired and "1974" in expired and "Île-de-France" not in expired
    assert "n'est pas une commune d'Île-de-France" in outside and "vigueur" not in outside


def test_a_file_still_being_written_waits_for_the_next_run(workspace, monkeypatch):
    monkeypatch.setenv("FLUX_LANDING_SETTLE_SECONDS", "0.5")
    path = write_csv(workspace.landing, "logements", sheets()["logements"])
    real_sleep = time.sleep

    def copy_goes_on(seconds):  # the bailleur's copy is still writing while we wait
        real_sleep(seconds / 2)
        with path.open("a") as fh:
            fh.write("L9;93066;oui;3;PLAI;1990\n")
        real_sleep(seconds / 2)

    monkeypatch.setattr(pipeline.time, "sleep", copy_goes_on)
    (f,) = ingest(workspace).values()
    assert f.statut == pipeline.EN_COURS_DE_DEPOT and f.rapport is None
    assert not list(workspace.raw_store.glob("fichiers/[0-9a-f]*.parquet"))
    monkeypatch.setattr(pipeline.time, "sleep", real_sleep)
    os.utime(path, (time.time() - 5, time.time() - 5))
    (f,) = ingest(workspace).values()
    assert f.statut == "ACCEPTE" and f.lignes == {"logements": 4}


def test_messages_have_no_placeholder_no_empty_parentheses_and_no_english(workspace):
    (workspace.landing / f"{SIREN}_{ANNEE}.xlsx").write_bytes(b"PK\x03\x04 truncated")
    data = sheets()
    data["logements"][0][0] = "identifiant"  # a required column missing: the hint lists names
    data["tours"][1][2] = dt.datetime(2024, 5, 24)  # a date cell, read as "2024-05-24 00:00:00"
    data["tours"][1][6] = dt.datetime(2024, 2, 1)  # orientation after issue: both dates quoted
    write_workbook(workspace.landing / "b" / f"{SIREN}_{ANNEE}.xlsx", data)
    summary = ingest(workspace)
    texts = pl.concat([anomalies(workspace, f.version) for f in summary.values()])
    for text in [*texts["message"], *texts["conseil"]]:
        assert "{" not in text and "()" not in text and "( )" not in text, text
        assert "zip file" not in text and "Error" not in text, text
    orientation = texts.filter(pl.col("regle") == "ORIENTATION_APRES_ISSUE")["message"][0]
    assert "24/05/2024" in orientation and "00:00:00" not in orientation
    hint = texts.filter(pl.col("regle") == "COLONNE_MANQUANTE")["conseil"][0]
    assert "IDENT_INT" in hint


def test_a_reference_to_a_rejected_sheet_says_it_was_rejected(workspace):
    header, first, *_ = sheets()["logements"]
    first[5] = "dix-neuf cent"
    write_csv(workspace.landing, "logements", [header, first])
    tours = write_csv(workspace.landing, "tours", sheets()["tours"])
    summary = ingest(workspace)
    found = anomalies(workspace, summary[tours.name].version).filter(pl.col("valeur") == "logements")
    assert found["regle"].to_list() == ["REFERENCE_FEUILLE_REJETEE"]
    assert "rejetée" in found["message"][0] and "pas encore" not in found["message"][0]


def test_an_unexpected_error_is_a_rejete_verdict_and_the_others_go_on(workspace, monkeypatch):
    write_csv(workspace.landing, "logements", sheets()["logements"])
    write_csv(workspace.landing, "conventions", sheets()["conventions"], siren=OTHER_SIREN)
    original = pipeline.check_file

    def fails_for_one_bailleur(f, *args):  # a fault the design did not foresee
        if f.name.siren == SIREN:
            raise RuntimeError("boom")
        return original(f, *args)

    monkeypatch.setattr(pipeline, "check_file", fails_for_one_bailleur)
    summary = ingest(workspace)
    broken, other = summary[f"{SIREN}_{ANNEE}_logements.csv"], summary[f"{OTHER_SIREN}_{ANNEE}_conventions.csv"]
    assert broken.statut == "REJETE" and Path(broken.rapport).is_file() and other.statut == "ACCEPTE"
    message = anomalies(workspace, broken.version)["message"][0]
    assert message.startswith("Le fichier n'a pas pu être lu") and "boom" not in message


def test_a_file_dated_in_the_future_still_gets_a_verdict(workspace, monkeypatch):
    """Regression: a copy carrying an mtime in 2030 was « en cours de dépôt » at every run, so it
    never got a verdict (and each run waited the settle delay for it)."""
    monkeypatch.setenv("FLUX_LANDING_SETTLE_SECONDS", "5")
    path = write_csv(workspace.landing, "logements", sheets()["logements"])
    future = dt.datetime(2030, 1, 1).timestamp()
    os.utime(path, (future, future))
    monkeypatch.setattr(pipeline.time, "sleep", lambda seconds: None)
    (f,) = ingest(workspace).values()
    assert f.statut == "ACCEPTE" and f.rapport is not None


def test_a_sheet_without_cell_ends_keeps_the_formula_scan_bounded():
    """Regression (review): XML with no ``</c>`` was carried whole from block to block, each block
    copying everything read so far: quadratic time on a forged sheet of the allowed size."""
    from dagster_project.ingest.archive_zip import _CHUNK, _FormulaScan

    scan = _FormulaScan()
    junk = b"<row>" + b"x" * (_CHUNK - 5)
    for _ in range(64):  # 4 MiB without a cell end
        scan.feed(junk)
        assert len(scan._carry) <= _FormulaScan.MAX_CARRY + _CHUNK
    scan.feed(b'<c r="B7"><f>SUM(A1:A2)</f></c>')  # a formula after the junk is still seen
    assert (scan.count, scan.uncached) == (1, ["B7"])


def test_bytes_changed_after_hashing_are_never_archived_under_the_old_hash(workspace):
    """Regression (review): the archive copied the file again without checking it: bytes rewritten
    between the hash and the copy were stored forever under the first hash."""
    from dagster_project.ingest import store
    from dagster_project.ingest.dropped import StillWriting

    path = write_csv(workspace.landing, "logements", sheets()["logements"])
    first = hashlib.sha256(path.read_bytes()).hexdigest()
    path.write_text(path.read_text() + "L9;93066;oui;3;PLAI;1990\n")
    with pytest.raises(StillWriting):
        store.archive(path, workspace.landing, workspace.archive, first, ".csv")
    assert not [f for f in workspace.archive.rglob("*") if f.is_file()]


def test_a_convention_on_a_code_merged_since_counts_in_the_rate_sums(workspace):
    """Regression (parity with quality's rate caps): ingestion ignored a convention on a code
    valid in the bilan year but merged since (Pierrefitte 93059 in 2024), so 85 % on the
    département plus 20 % on Pierrefitte passed as at most 100 %."""
    header, *_ = sheets()["conventions"]
    rows = [header,
            ["PREF93", "Préfet 93", "ETAT_PRIORITAIRES", "", "DEPARTEMENT", "93", "25"],
            ["ALS", "Action Logement Services", "ACTION_LOGEMENT", "824541148", "DEPARTEMENT", "93", "60"],
            ["VPIE", "Ville de Pierrefitte-sur-Seine", "COMMUNE", "219300597", "COMMUNE", "93059", "20"]]
    write_csv(workspace.landing, "conventions", rows)
    (f,) = ingest(workspace).values()
    found = anomalies(workspace, f.version).filter(pl.col("regle") == "TAUX_SOMME")
    assert f.statut == "REJETE" and found["valeur"].to_list() == ["département 93"]
    assert "jusqu'à 105" in found["message"][0] and "93059" in found["message"][0]
