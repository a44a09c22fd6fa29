"""The report model: what a trame says, independent of how it is drawn.

Builders (one module per trame kind) turn mart rows into a ``Report``; the renderer turns a
``Report`` into a workbook. Everything here is plain immutable data so that a report can be
fingerprinted (incremental runs), pickled to a worker process and unit-tested without Excel.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import cached_property

# Bump when the layout of the workbooks changes: every trame is then rewritten.
TEMPLATE_VERSION = "1"

# Cell formats understood by the renderer.
TEXT, INT, DEC, PCT = "text", "int", "dec", "pct"

Value = str | int | float | None


@dataclass(frozen=True)
class Column:
    header: str
    fmt: str = INT
    width: int = 14


@dataclass(frozen=True)
class Chart:
    """A clustered bar chart over one table: categories in the first column."""

    title: str
    series: tuple[int, ...]  # indexes of the table columns to plot


@dataclass(frozen=True)
class Table:
    title: str
    columns: tuple[Column, ...]
    rows: tuple[tuple[Value, ...], ...]
    total: tuple[Value, ...] | None = None
    note: str | None = None
    chart: Chart | None = None


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
