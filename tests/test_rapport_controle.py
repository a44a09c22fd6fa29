"""The rapport de contrôle as the bailleur reads it: summary first, detail after, nothing cut."""

from __future__ import annotations

import io

import openpyxl
import pytest

from dagster_project.documents.layout import clipped
from dagster_project.ingest.rapport import summary_lines, xlsx_bytes

HEADER = {
    "Rapport de contrôle": "552046484_2024_tours.csv",
    "Verdict": "Fichier rejeté",
    "Chemin dans le dépôt": "bailleurs/552046484/un dossier au nom long/552046484_2024_tours.csv",
    "Empreinte SHA-256": "ab" * 32,
}


def _row(line: int, rule="DATE_INVALIDE", gravite="ERREUR", sheet="tours", column="date_attribution",
         value="2024-13-01") -> list[str]:
    return [
        "552046484_2024_tours.csv", sheet, str(line), column, value, rule, gravite,
        f"La valeur « {value} » n'est pas une date valide (AAAA-MM-JJ ou JJ/MM/AAAA).",
        "Saisissez la date au format JJ/MM/AAAA, par exemple 15/03/2024.",
    ]


ROWS = [
    *(_row(i) for i in range(2, 3002)),  # 3,000 bad dates: one line of summary, not 3,000
    _row(9, "VOCABULAIRE", "AVERTISSEMENT", "logements", "typologie", "T7"),
    _row(5, "REFERENCE_LOGEMENT", "ERREUR", "tours", "logement_id", '=HYPERLINK("http://x")'),
]


@pytest.fixture(scope="module")
def workbook() -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(xlsx_bytes(HEADER, ROWS)))


def test_summary_has_one_line_per_rule_sheet_and_column_errors_first():
    lines = summary_lines(ROWS)
    assert [(g, s, c, r, n) for g, s, c, r, n, *_ in lines] == [
        ("Erreur (bloquante)", "tours", "date_attribution", "DATE_INVALIDE", 3000),
        ("Erreur (bloquante)", "tours", "logement_id", "REFERENCE_LOGEMENT", 1),
        ("Avertissement", "logements", "typologie", "VOCABULAIRE", 1),
    ]
    assert lines[0][5] == "2, 3, 4, 5, 6 …" and lines[0][6] == "2024-13-01"


def test_summary_sheet_comes_first_and_says_what_blocks(workbook):
    assert workbook.sheetnames == ["Synthèse", "Détail"]
    values = [c.value for row in workbook["Synthèse"].iter_rows() for c in row if c.value is not None]
    assert "Fichier rejeté" in values
    assert any(str(v).startswith("Ce qui bloque : 3001 erreur(s)") for v in values)
    injected = [c for row in workbook["Synthèse"].iter_rows() for c in row if c.value == ROWS[-1][4]]
    assert injected and all(c.data_type == "s" for c in injected)


def test_detail_has_numbers_filters_frozen_header_and_a4_landscape(workbook):
    ws = workbook["Détail"]
    assert [c.value for c in ws[1]][:3] == ["Feuille", "Ligne", "Colonne"]
    # in the file's order (sheet, row), row numbers as numbers
    assert [(ws[f"A{r}"].value, ws[f"B{r}"].value) for r in (2, 3, 4, 7)] == [
        ("logements", 9), ("tours", 2), ("tours", 3), ("tours", 5)
    ]
    assert ws["D7"].value == ROWS[-1][4] and ws["D8"].value == "2024-13-01"
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref == "A1:H3003"
    assert ws.print_title_rows == "$1:$1"
    for sheet in workbook.worksheets:
        assert sheet.page_setup.orientation == "landscape" and sheet.page_setup.paperSize == 9
        assert sheet.sheet_properties.pageSetUpPr.fitToPage and sheet.page_setup.fitToWidth == 1


def test_no_text_is_cut_in_the_rapport(workbook):
    assert [p for ws in workbook.worksheets for p in clipped(ws)] == []


def test_a_file_without_anomaly_says_so():
    book = openpyxl.load_workbook(io.BytesIO(xlsx_bytes({**HEADER, "Verdict": "Fichier accepté"}, [])))
    values = [c.value for ws in book.worksheets for row in ws.iter_rows() for c in row]
    assert "Aucune anomalie." in values and "Fichier accepté" in values
    assert [p for ws in book.worksheets for p in clipped(ws)] == []
