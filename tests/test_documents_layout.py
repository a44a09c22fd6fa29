"""The layout function: text measured with Arial's metrics, widths and heights that fit it."""

from __future__ import annotations

import random

import openpyxl
import pytest
from openpyxl.styles import Alignment, Font

from dagster_project.documents.layout import (
    Grid,
    clipped,
    displayed,
    narrowest,
    points_in,
    row_height,
    text_width,
    width_for,
    wrap,
)

WORDS = (
    "Logements attribués proposés ETAT_FONCTIONNAIRES contingent non réservé, repris « hors "
    "flux » Taux conventionnel Attributions au titre des relogements Île-de-France – 93066 "
    "Saint-Denis l'année précédente (report N-1) Établissement W M i l 0 123 456 789"
).split()


def _text(rng: random.Random, most: int = 40) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, most)))


def test_widths_follow_the_font():
    assert text_width("0123456789") == pytest.approx(10 * text_width("0"))  # tabular digits
    assert text_width("WWW") > text_width("iii") * 2
    assert text_width("Taux", bold=True) > text_width("Taux")
    assert text_width("Taux", size=20) == pytest.approx(2 * text_width("Taux", size=10))
    assert text_width("ab\ncdef") == text_width("cdef")
    assert text_width("漢") > text_width("a")  # outside the table: measured wide, never narrow


def test_column_width_and_points_are_inverse():
    for points in (10.0, 55.5, 300.0):
        assert points_in(width_for(points)) >= points


def test_wrapped_lines_fit_and_keep_every_word():
    rng = random.Random(16)
    for _ in range(500):
        text, points = _text(rng), rng.uniform(40, 400)
        bold = rng.random() < 0.5
        lines = wrap(text, points, 10, bold)
        assert " ".join(lines).split() == text.split() or "".join(lines).replace(" ", "") == text.replace(" ", "")
        assert all(text_width(line, 10, bold) <= points for line in lines if len(line) > 1)


def test_narrowest_width_keeps_a_header_on_two_lines():
    header = "Attributions au titre des relogements"
    points = narrowest(header, 2, 10, True)
    assert len(wrap(header, points, 10, True)) <= 2
    assert len(wrap(header, points * 0.9, 10, True)) > 2
    assert narrowest("Code", 2, 10, True) == text_width("Code", 10, True)


def test_displayed_numbers_look_french():
    assert displayed(12345, "#,##0") == "12\u202f345"
    assert displayed(0.2534, "0.0%") == "25.3\u202f%"
    assert displayed(None) == ""


def _apply(grid: Grid) -> openpyxl.Workbook:
    """A worksheet holding ``grid``'s texts with its widths and heights, as the renderers do."""
    wb = openpyxl.Workbook()
    ws = wb.active
    widths = grid.widths()
    for t in grid.texts:
        cell = ws.cell(t.row, t.col, t.text)
        cell.font = Font(name="Arial", size=t.size, bold=t.bold)
        cell.alignment = Alignment(wrap_text=t.wrap or t.span > 1, vertical="top")
        if t.span > 1:
            ws.merge_cells(start_row=t.row, start_column=t.col, end_row=t.row, end_column=t.col + t.span - 1)
    for col, width in widths.items():
        ws.column_dimensions[openpyxl.utils.get_column_letter(col)].width = width
    for row, height in grid.heights(widths).items():
        ws.row_dimensions[row].height = height
    return wb


def test_every_text_a_grid_lays_out_fits_its_cell():
    """Property: whatever the texts, fonts, caps and spans, ``clipped`` finds nothing cut."""
    rng = random.Random(2026)
    for case in range(80):
        grid = Grid(caps={c: rng.uniform(15, 60) for c in range(1, 6) if rng.random() < 0.5})
        for row in range(1, rng.randint(2, 12)):
            span = 5 if rng.random() < 0.15 else 1
            for col in range(1, 6 if span == 1 else 2):
                wrapped = rng.random() < 0.5  # unwrapped texts are labels: a few words
                grid.add(
                    row,
                    col,
                    _text(rng, 40 if wrapped else 6)
                    if rng.random() < 0.7
                    else str(rng.randint(0, 10**6)),
                    size=rng.choice((9, 10, 11, 14)),
                    bold=rng.random() < 0.3,
                    wrap=wrapped,
                    span=span,
                    max_lines=2 if rng.random() < 0.2 else None,
                )
        ws = _apply(grid).active
        assert clipped(ws) == [], f"cas {case}"


def test_clipped_sees_a_cut_label_and_overlapping_lines():
    wb = openpyxl.Workbook()
    ws = wb.active
    ws["A1"] = "ETAT_FONCTIONNAIRES"
    ws["B1"] = 12
    ws.column_dimensions["A"].width = 10
    ws["A2"] = "Une définition longue qui s'enroule sur plusieurs lignes dans sa cellule."
    ws["A2"].alignment = Alignment(wrap_text=True)
    problems = clipped(ws)
    assert [p.split(" ")[0] for p in problems] == ["Sheet!A1", "Sheet!A2"]
    ws.row_dimensions[2].height = row_height(8)
    ws.column_dimensions["A"].width = 30
    assert clipped(ws) == []
