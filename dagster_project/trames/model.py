"""The report model: what a trame says, independent of how it is drawn.

Builders (one module per trame kind) turn mart rows into a ``Report``; the renderer turns a
``Report`` into a workbook. Everything here is plain immutable data so that a report can be
fingerprinted (incremental runs), pickled to a worker process and unit-tested without Excel.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from dagster_project.documents.sheet import DEC, INT, PCT, TEXT  # noqa: F401 (cell formats)

# Bump when the layout of the workbooks changes: every trame is then rewritten.
TEMPLATE_VERSION = "3"


Value = str | int | float | None


SUM = "sum"  # a column's total: the sum of its values


@dataclass(frozen=True)
class Ratio:
    """A column's total: the total of one column over the total of another (a share)."""

    numerator: str  # header of the numerator column
    denominator: str


@dataclass(frozen=True)
class Column:
    """A table column as written: header, cell format, total, and the widest it may grow
    (``cap``, Excel width units) before its text wraps; the width itself follows the content."""

    header: str
    fmt: str = INT
    total: str | Ratio | None = SUM
    cap: float | None = None


@dataclass(frozen=True)
class Field:
    """A column and where its value comes from: a table is declared once as a tuple of fields,
    so that adding a column is one line and cannot shift the others."""

    header: str
    value: Callable[[Any], Value]
    fmt: str = INT
    total: str | Ratio | None = SUM
    cap: float | None = None

    @property
    def column(self) -> Column:
        return Column(self.header, self.fmt, self.total, self.cap)


@dataclass(frozen=True)
class Chart:
    """A clustered bar chart over one table: categories in the first column."""

    title: str
    series: tuple[str, ...]  # headers of the table columns to plot


@dataclass(frozen=True)
class Table:
    title: str
    columns: tuple[Column, ...]
    rows: tuple[tuple[Value, ...], ...]
    total: tuple[Value, ...] | None = None
    note: str | None = None
    chart: Chart | None = None
    filterable: bool = False  # an Excel table with filters, its totals follow the filter


def table(
    title: str,
    fields: Iterable[Field],
    records: Iterable[Any],
    *,
    total: str | None = "Total",
    sums: dict[str, Value] | None = None,
    note: str | None = None,
    chart: Chart | None = None,
    filterable: bool = False,
) -> Table:
    """A ``Table`` from its fields and records; the total row (labelled ``total`` in the first
    column, None for none) applies each field's total rule to the column it names. ``sums``
    replaces the sum of a column (by header) when the whole is known to be more than its rows."""
    fields = tuple(fields)
    rows = tuple(tuple(f.value(record) for f in fields) for record in records)
    return Table(
        title=title,
        columns=tuple(f.column for f in fields),
        rows=rows,
        total=None if total is None else total_row(fields, rows, total, sums or {}),
        note=note,
        chart=chart,
        filterable=filterable,
    )


def total_row(
    fields: tuple[Field, ...],
    rows: tuple[tuple[Value, ...], ...],
    label: str,
    known: dict[str, Value],
) -> tuple[Value, ...]:
    sums = {
        f.header: sum(r[i] or 0 for r in rows if isinstance(r[i], int | float))
        for i, f in enumerate(fields)
    } | known
    out: list[Value] = []
    for i, f in enumerate(fields):
        if i == 0:
            out.append(label)
        elif f.fmt == TEXT:
            out.append("")
        elif f.total == SUM:
            out.append(sums[f.header])
        elif isinstance(f.total, Ratio):
            whole = sums[f.total.denominator]
            out.append(sums[f.total.numerator] / whole if whole else None)
        else:
            out.append(None)
    return tuple(out)


@dataclass(frozen=True)
class Sheet:
    name: str  # tab name, ≤ 31 characters
    title: str
    tables: tuple[Table, ...]
    landscape: bool = False


@dataclass(frozen=True)
class Report:
    """One workbook for one recipient."""

    kind: str  # RESERVATAIRE, EPCI_EPT, ETAT, PREVISIONNEL, REGIONAL_*
    relpath: str  # under trames/<annee>/, POSIX separators
    annee: int
    titre: str
    destinataire: str
    bailleur: str  # SIREN, or "Tous les bailleurs" for regional reports
    perimetre: str
    recipient_code: str
    departement: str = ""
    territoire: str = ""
    email: str = ""
    sources: tuple[tuple[str, str, str], ...] = ()  # (file, sha256, dropped at)
    notice: tuple[tuple[str, str], ...] = ()  # (indicator, plain French explanation)
    sheets: tuple[Sheet, ...] = field(default=())

    @property
    def nb_figures(self) -> int:
        """Numeric cells in the report's tables (the manifest's "nb of figures")."""
        return sum(
            isinstance(v, int | float) and not isinstance(v, bool)
            for sheet in self.sheets
            for table in sheet.tables
            for row in (*table.rows, *((table.total,) if table.total else ()))
            for v in row
        )

    @cached_property
    def fingerprint(self) -> str:
        """Content hash of everything the workbook shows except run id and generation date."""
        return hashlib.sha256(f"{TEMPLATE_VERSION}\n{self!r}".encode()).hexdigest()
