"""Hostile drops: each one is rejected with a clear rule, never a crash, never touched."""

from __future__ import annotations

import io
import os
import zipfile

from pathlib import Path

import pytest
from openpyxl import Workbook

from ingest_samples import ANNEE, SIREN, anomalies, ingest, rules, sheets, write_csv, write_workbook

NAME = f"{SIREN}_{ANNEE}.xlsx"


def _only(workspace):
    (f,) = ingest(workspace).values()
    return f, rules(workspace, f.sha256)


def _valid_workbook_bytes(tmp_path) -> bytes:
    return write_workbook(tmp_path / "valid.xlsx").read_bytes()


@pytest.mark.parametrize(
    "content,expected",
    [
        (b"", "FICHIER_VIDE"),
        (b"this is not a workbook", "FICHIER_NON_XLSX"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512, "FICHIER_XLS_OU_PROTEGE"),
        (b"PK\x03\x04" + b"\0" * 64, "FICHIER_ILLISIBLE"),
    ],
)
def test_broken_workbooks(workspace, content, expected):
    (workspace.landing / NAME).write_bytes(content)
    f, found = _only(workspace)
    assert f.statut == "REJETE" and expected in found
    assert (workspace.landing / NAME).read_bytes() == content  # never modified


def test_truncated_workbook(workspace, tmp_path):
    data = _valid_workbook_bytes(tmp_path)
    (workspace.landing / NAME).write_bytes(data[: len(data) // 2])
    f, found = _only(workspace)
    assert f.statut == "REJETE" and found == {"FICHIER_ILLISIBLE"}


def test_zip_without_workbook(workspace):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("readme.txt", "hello")
    (workspace.landing / NAME).write_bytes(buffer.getvalue())
    assert _only(workspace)[1] == {"FICHIER_NON_XLSX"}


def test_zip_bomb_is_refused_unread(workspace, tmp_path, monkeypatch):
    monkeypatch.setenv("FLUX_MAX_UNZIPPED_MB", "1")
    source = zipfile.ZipFile(io.BytesIO(_valid_workbook_bytes(tmp_path)))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for info in source.infolist():
            zf.writestr(info, source.read(info))
        zf.writestr("xl/media/padding.bin", b"\0" * (5 * 1024 * 1024))
    (workspace.landing / NAME).write_bytes(buffer.getvalue())
    f, found = _only(workspace)
    assert f.statut == "REJETE" and found == {"FICHIER_ARCHIVE_SUSPECTE"}


def test_file_above_the_size_limit(workspace, monkeypatch):
    monkeypatch.setenv("FLUX_MAX_FILE_MB", "0.001")
    write_csv(workspace.landing, "logements", sheets()["logements"] * 20)
    assert _only(workspace)[1] == {"FICHIER_TROP_GROS"}


def test_formulas_are_read_as_their_values_and_flagged(workspace):
    wb = Workbook()
    wb.remove(wb.active)
    for name, rows in sheets().items():
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append(row)
    wb["logements"]["D2"] = "=1+2"  # openpyxl stores no cached value: the cell reads empty
    wb.save(workspace.landing / NAME)
    f, found = _only(workspace)
    assert {"FICHIER_FORMULES", "PIECES_MANQUANTES"} <= found and f.statut == "REJETE"


def test_header_only_and_blank_files(workspace):
    write_csv(workspace.landing, "logements", [sheets()["logements"][0]])
    (workspace.landing / f"{SIREN}_{ANNEE}_tours.csv").write_text("\n\n;;;\n")
    summary = ingest(workspace)
    for f in summary.values():
        assert f.statut == "REJETE" and "FICHIER_SANS_DONNEES" in rules(workspace, f.sha256)


def test_names_without_siren_year_or_sheet(workspace):
    (workspace.landing / "bilan 2024.xlsx").write_bytes(b"whatever")
    (workspace.landing / f"{SIREN}_{ANNEE}_divers.csv").write_text("a;b\n1;2\n")
    (workspace.landing / f"{SIREN}_{ANNEE}.ods").write_bytes(b"ods")
    (workspace.landing / f"{SIREN}_1850.xlsx").write_bytes(b"xlsx")
    summary = ingest(workspace)
    assert {chemin: rules(workspace, f.sha256) for chemin, f in summary.items()} == {
        "bilan 2024.xlsx": {"FICHIER_NOM"},
        f"{SIREN}_{ANNEE}_divers.csv": {"FICHIER_FEUILLE_INCONNUE"},
        f"{SIREN}_{ANNEE}.ods": {"FICHIER_EXTENSION"},
        f"{SIREN}_1850.xlsx": {"FICHIER_ANNEE"},
    }
    report = summary["bilan 2024.xlsx"].rapport
    assert "/rapports/inconnu/bilan_2024.xlsx." in report


def test_path_tricks_never_escape_the_output_folders(workspace):
    tricky = workspace.landing / "a..b;%2F.." / f"{SIREN}_{ANNEE}_tours;rm -rf ~ $(id) ..\\..\\x.csv"
    tricky.parent.mkdir()
    tricky.write_text("x")
    (workspace.landing / "..hidden_2024.csv").write_text("hidden files are not drops")
    (f,) = ingest(workspace).values()
    report = Path(f.rapport)
    assert report.parent == workspace.rapports / str(ANNEE) / SIREN
    assert report.name.startswith("x.csv.") and ";" not in report.name  # Windows separators too


def test_symlinks_and_special_files_get_a_rapport_and_are_never_opened(workspace, tmp_path):
    outside = tmp_path / "secret.csv"
    outside.write_text("contenu confidentiel")
    (workspace.landing / f"{SIREN}_{ANNEE}_logements.csv").symlink_to(outside)
    (workspace.landing / "dossier_lie").symlink_to(tmp_path)
    os.mkfifo(workspace.landing / f"{SIREN}_{ANNEE}_tours.csv")  # opening it would block
    (workspace.landing / f"~${SIREN}_{ANNEE}.xlsx").write_bytes(b"lock")  # not a drop
    summary = ingest(workspace)
    assert sorted(summary) == [f"{SIREN}_{ANNEE}_logements.csv", f"{SIREN}_{ANNEE}_tours.csv", "dossier_lie"]
    for f in summary.values():
        found = anomalies(workspace, f.version)
        assert f.statut == "REJETE" and set(found["regle"]) == {"FICHIER_LIEN"} and Path(f.rapport).is_file()
    messages = {c: anomalies(workspace, f.version)["message"][0] for c, f in summary.items()}
    assert "lien symbolique" in messages[f"{SIREN}_{ANNEE}_logements.csv"]
    assert "fichier spécial" in messages[f"{SIREN}_{ANNEE}_tours.csv"]
    assert not any("confidentiel" in p.read_text() for p in workspace.rapports.rglob("*.csv"))


def test_a_workbook_renamed_to_csv_is_told_so(workspace, tmp_path):
    (workspace.landing / f"{SIREN}_{ANNEE}_tours.csv").write_bytes(_valid_workbook_bytes(tmp_path))
    f, found = _only(workspace)
    message = anomalies(workspace, f.version)["message"][0]
    assert found == {"FICHIER_ENCODAGE"} and "classeur Excel renommé en .csv" in message
