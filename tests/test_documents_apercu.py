"""make apercu: one document of each kind is chosen, and LibreOffice renders it to PDF."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import openpyxl
import pytest

from dagster_project.documents.apercu import ApercuError, _documents, one_of_each_kind, to_pdf
from dagster_project.ingest.rapport import xlsx_bytes


def _workbook(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(xlsx_bytes({"Rapport de contrôle": path.name, "Verdict": "Fichier accepté"}, []))
    return path


def test_one_document_of_each_kind_from_the_latest_year(tmp_path: Path):
    marts = tmp_path / "marts"
    for year, kinds in ((2023, ["RESERVATAIRE"]), (2024, ["RESERVATAIRE", "RESERVATAIRE", "ETAT"])):
        files = [{"kind": k, "file": f"{k.lower()}_{i}.xlsx"} for i, k in enumerate(kinds)]
        (marts / "trames" / str(year)).mkdir(parents=True)
        (marts / "trames" / str(year) / "manifest.json").write_text(json.dumps({"files": files}))
    rapport = _workbook(marts / "rapports" / "2024" / "1" / "f.controle.xlsx")
    chosen = one_of_each_kind(marts)
    assert [p.relative_to(marts).as_posix() for p in chosen] == [
        "trames/2024/etat_2.xlsx",
        "trames/2024/reservataire_0.xlsx",
        rapport.relative_to(marts).as_posix(),
    ]
    with pytest.raises(ApercuError, match="introuvable"):
        _documents([str(tmp_path / "absent.xlsx")])


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice absent (make apercu l'installe)")
def test_libreoffice_renders_two_workbooks_with_the_same_name(tmp_path: Path):
    a = _workbook(tmp_path / "a" / "etat" / "93.xlsx")
    b = _workbook(tmp_path / "b" / "etat" / "93.xlsx")
    pdfs = to_pdf([a, b], tmp_path / "pdf")
    assert len({p.name for p in pdfs}) == 2
    assert all(p.read_bytes().startswith(b"%PDF") for p in pdfs)
    assert openpyxl.load_workbook(io.BytesIO(a.read_bytes()))  # the workbook itself is untouched
