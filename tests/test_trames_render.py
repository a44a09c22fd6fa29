"""The openpyxl renderer: plain text only, stable bytes, printable layout, atomic writes."""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import openpyxl
import pytest

from dagster_project.documents.layout import clipped
from dagster_project.trames.model import (
    INT,
    PCT,
    TEXT,
    Chart,
    Column,
    Field,
    Ratio,
    Report,
    Sheet,
    Table,
    table,
)
from dagster_project.trames.render import render

NOW = dt.datetime(2025, 2, 1, 8, 0)
EVIL = ('=HYPERLINK("http://exemple.invalid")', "+1+2", "-3+4", "@SUM(A1)")


def _report(**changes) -> Report:
    table = Table(
        title="Ventilation : Typologie",
        columns=(Column("Typologie", TEXT), Column("Logements proposés"), Column("Part", PCT)),
        rows=(("T1", 3, 0.25), ("T2", 9, 0.75)),
        total=("Total", 12, 1.0),
        chart=Chart("Proposés par typologie", ("Logements proposés",)),
    )
    names = Table(
        title="Noms",
        columns=(Column("Nom", TEXT), Column("Nombre", INT)),
        rows=tuple((text, 1) for text in EVIL),
    )
    base = dict(
        kind="RESERVATAIRE",
        relpath="1/reservataires/X.xlsx",
        annee=2024,
        titre="Bilan 2024",
        destinataire=EVIL[0],
        bailleur="123456789",
        perimetre="93",
        recipient_code="X",
        sources=(("f.csv", "ab" * 32, "2025-01-10 10:00:00"),),
        notice=(("Droit", "Explication."),),
        sheets=(
            Sheet("Ventilations", "Ventilations", (table,)),
            Sheet("Noms", "Noms", (table, names), landscape=True),
        ),
    )
    return Report(**{**base, **changes})


@pytest.fixture
def workbook():
    return openpyxl.load_workbook(io.BytesIO(render(_report(), "run-1", NOW)))


def test_text_from_bailleurs_is_never_a_formula(workbook):
    cells = [
        c
        for ws in workbook.worksheets
        for row in ws.iter_rows()
        for c in row
        if c.value is not None
    ]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    values = {c.value for c in cells}
    assert set(EVIL) <= values
    data = render(_report(), "run-1", NOW)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert not any(
            b"<f>" in archive.read(n) for n in archive.namelist() if n.startswith("xl/worksheets/")
        )


def test_cover_notice_and_sheets(workbook):
    assert workbook.sheetnames == ["Page de garde", "Ventilations", "Noms", "Notice"]
    cover = {
        row[0]: row[1] for row in workbook["Page de garde"].iter_rows(values_only=True) if row[0]
    }
    assert cover["Exécution qui a généré ce fichier"] == "run-1"
    assert cover["Date de génération (heure de Paris)"] == "01/02/2025 09:00"
    assert cover["f.csv"] == "ab" * 32
    assert cover["Empreinte du contenu"] == _report().fingerprint
    assert workbook["Notice"]["A4"].value == "Droit"


def test_layout_is_printable(workbook):
    ws = workbook["Ventilations"]
    assert ws.freeze_panes == "A6"  # a single table keeps its header row in view
    assert workbook["Noms"].freeze_panes == "A3"
    assert (
        ws.page_setup.orientation == "portrait"
        and workbook["Noms"].page_setup.orientation == "landscape"
    )
    assert ws.page_setup.fitToWidth == 1 and ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws.print_title_rows == "$1:$5"
    assert ws["C6"].number_format == "0.0%" and ws["B6"].number_format == "#,##0"
    assert ws["A8"].value == "Total" and ws["A8"].font.b


def test_a_chart_is_drawn_for_the_typologie():
    with zipfile.ZipFile(io.BytesIO(render(_report(), "run-1", NOW))) as archive:
        charts = [n for n in archive.namelist() if n.startswith("xl/charts/chart")]
    assert len(charts) == 2  # the typologie table appears on two sheets


def test_same_report_same_bytes_and_only_the_cover_follows_the_run():
    first = render(_report(), "run-1", NOW)
    assert render(_report(), "run-1", NOW) == first
    other = render(_report(), "run-2", NOW + dt.timedelta(days=1))
    with zipfile.ZipFile(io.BytesIO(first)) as a, zipfile.ZipFile(io.BytesIO(other)) as b:
        differ = {n for n in a.namelist() if a.read(n) != b.read(n)}
    assert differ <= {"docProps/core.xml", "xl/worksheets/sheet1.xml", "xl/sharedStrings.xml"}


def test_no_text_is_cut_on_any_sheet(workbook):
    """Widths and heights come from the text: long notices, two-line headers, long labels."""
    long = _report(
        notice=(("Indicateur au libellé long", "Une définition " * 40),) * 3,
        destinataire="Établissement public territorial Plaine Commune " * 2,
    )
    for book in (workbook, openpyxl.load_workbook(io.BytesIO(render(long, "run-1", NOW)))):
        assert [p for ws in book.worksheets for p in clipped(ws)] == []


def test_a_filterable_table_has_filters_and_totals_that_follow_them():
    bailleurs = table(
        "Détail par bailleur",
        (
            Field("SIREN", lambda r: r[0], TEXT),
            Field("Nom", lambda r: "", TEXT),
            Field("Attribués", lambda r: r[1]),
            Field("Hors QPV", lambda r: r[2]),
            Field("Part hors QPV", lambda r: r[2] / r[1], PCT, Ratio("Hors QPV", "Attribués")),
        ),
        (("111", 10, 5), ("222", 30, 5)),
        filterable=True,
    )
    assert bailleurs.total == ("Total", "", 40, 10, 0.25)
    report = _report(sheets=(Sheet("Bailleurs", "Bailleurs", (bailleurs,)),))
    data = render(report, "run-1", NOW)
    book = openpyxl.load_workbook(io.BytesIO(data))
    ws = book["Bailleurs"]
    (excel_table,) = ws.tables.values()
    assert excel_table.ref == "A5:E7"
    assert [ws["A8"].value, ws["B8"].value, ws["C8"].value] == ["Total", None, "=SUBTOTAL(109,C6:C7)"]
    assert ws["E8"].value == '=IF(SUBTOTAL(109,C6:C7)=0,"",SUBTOTAL(109,D6:D7)/SUBTOTAL(109,C6:C7))'
    assert book.calculation.fullCalcOnLoad
