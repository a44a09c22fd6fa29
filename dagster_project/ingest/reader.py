"""Tolerant, defensive reading of a dropped file into sheets of text cells.

Every cell is read as text (typing is the validator's job, with its own French messages);
row numbers are kept as the bailleur sees them (header = 1). Hostile files (too big,
truncated, not really xlsx, zip bombs) raise :class:`Rejection` before any parsing.
"""

from __future__ import annotations

import io
import os
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import fastexcel
import polars as pl

from dagster_project.ingest.contract import header_lookup, sheet_lookup
from dagster_project.ingest.naming import FileName
from dagster_project.ingest.text import fold

ROW = "_row_number"
HEADER_SCAN_ROWS = 10
DEFAULT_MAX_UNZIPPED_MB = 1024
MAX_ZIP_RATIO = 200
MAX_ZIP_ENTRIES = 10_000
_FORMULA = re.compile(rb"<f[ >/]")
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


class Rejection(Exception):
    """The file cannot be read at all; ``code`` is a rule of ``regles.csv``."""

    def __init__(self, code: str, detail: str = "", valeur: str = ""):
        super().__init__(f"{code}: {detail}")
        self.code, self.detail, self.valeur = code, detail, valeur


@dataclass
class RawSheet:
    name: str  # as written in the file (sheet tab name, or the CSV file name)
    sheet: str | None  # canonical sheet, None when unknown
    headers: list[str]  # header cells as written, one per column c0..cn
    frame: pl.DataFrame  # text columns c0..cn + ROW; blank rows removed
    header_row: int = 1


@dataclass
class ReadResult:
    sheets: list[RawSheet]
    notes: list[dict] = field(default_factory=list)  # file-level anomalies (rule, detail)
    encoding: str | None = None
    separator: str | None = None


def max_unzipped_bytes() -> int:
    return int(float(os.environ.get("FLUX_MAX_UNZIPPED_MB", DEFAULT_MAX_UNZIPPED_MB)) * 1024**2)


# ---------------------------------------------------------------------------------- CSV


def decode(data: bytes) -> tuple[str, str]:
    """UTF-8 (with or without BOM) when it decodes, else Windows-1252, else Latin-1."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace"), "utf-8-sig"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        return data.decode("latin-1"), "latin-1"


def sniff_separator(text: str) -> str:
    """The separator of the first non-blank line: the most frequent of ; , tab outside quotes."""
    first = next((line for line in text.splitlines() if line.strip()), "")
    unquoted = re.sub(r'"[^"]*"', "", first)
    counts = {sep: unquoted.count(sep) for sep in (";", ",", "\t")}
    best = max(counts, key=lambda s: counts[s])
    return best if counts[best] else ";"


def read_csv(data: bytes, file_name: FileName) -> ReadResult:
    text, encoding = decode(data)
    separator = sniff_separator(text)
    lines = text.splitlines()
    if not any(line.strip(" \t;,\"") for line in lines):
        raise Rejection("FICHIER_SANS_DONNEES")
    leading_blank = next(i for i, line in enumerate(lines) if line.strip())
    try:
        frame = pl.read_csv(
            io.BytesIO(text.encode("utf-8")),
            separator=separator,
            has_header=False,
            infer_schema=False,
            quote_char='"',
            skip_rows=leading_blank,
        )
    except Exception as exc:  # polars raises several error kinds on malformed CSV
        raise Rejection("FICHIER_ILLISIBLE", f"CSV mal formé : {_short(exc)}") from exc
    sheet = _raw_sheet(file_name.name, file_name.sheet, frame, first_row=leading_blank + 1)
    return ReadResult([sheet], encoding=encoding, separator=separator)


# --------------------------------------------------------------------------------- XLSX


def check_xlsx_container(path: Path) -> int:
    """Refuse what is not a sane xlsx zip; returns the number of formula cells found."""
    with path.open("rb") as fh:
        magic = fh.read(8)
    if magic.startswith(_OLE_MAGIC):
        raise Rejection("FICHIER_XLS_OU_PROTEGE")
    if not magic.startswith(b"PK"):
        raise Rejection("FICHIER_NON_XLSX", "ce n'est pas une archive xlsx")
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            names = {i.filename for i in infos}
            if "xl/workbook.xml" not in names:
                raise Rejection("FICHIER_NON_XLSX", "l'archive ne contient pas de classeur")
            if len(infos) > MAX_ZIP_ENTRIES:
                raise Rejection("FICHIER_ARCHIVE_SUSPECTE", f"{len(infos)} éléments")
            unzipped = sum(i.file_size for i in infos)
            zipped = max(1, sum(i.compress_size for i in infos))
            limit = max_unzipped_bytes()
            if unzipped > limit or (unzipped > 50 * 1024**2 and unzipped / zipped > MAX_ZIP_RATIO):
                raise Rejection(
                    "FICHIER_ARCHIVE_SUSPECTE",
                    f"{unzipped // 1024**2} Mo décompressés pour {zipped // 1024} Ko",
                )
            return sum(
                _count_formulas(zf, i) for i in infos if i.filename.startswith("xl/worksheets/")
            )
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError) as exc:
        raise Rejection("FICHIER_ILLISIBLE", f"archive xlsx corrompue ou tronquée : {_short(exc)}") from exc


def _count_formulas(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> int:
    count, carry = 0, b""
    with zf.open(info) as fh:
        while chunk := fh.read(1 << 20):
            block = carry + chunk
            count += len(_FORMULA.findall(block))
            carry = block[-2:]  # shorter than a match: nothing is counted twice
    return count


def read_xlsx(path: Path) -> ReadResult:
    formulas = check_xlsx_container(path)
    notes = [{"regle": "FICHIER_FORMULES", "detail": f"{formulas} cellule(s)"}] if formulas else []
    try:
        reader = fastexcel.read_excel(path)
        sheets = []
        for tab in reader.sheet_names:
            frame = reader.load_sheet(tab, header_row=None, dtypes="string").to_polars()
            sheets.append(_raw_sheet(tab, sheet_lookup().get(fold(tab)), frame))
    except Rejection:
        raise
    except Exception as exc:  # calamine errors are not a stable hierarchy
        raise Rejection("FICHIER_ILLISIBLE", f"classeur illisible : {_short(exc)}") from exc
    return ReadResult(sheets, notes=notes)


# ------------------------------------------------------------------------------- shared


def _raw_sheet(name: str, sheet: str | None, frame: pl.DataFrame, first_row: int = 1) -> RawSheet:
    """Locate the header row, number the rows as the bailleur sees them, drop blank rows.

    ``first_row`` is the file row of the frame's first row (CSV leading blank lines skipped).
    """
    if frame.width == 0 or frame.height == 0:
        return RawSheet(name, sheet, [], pl.DataFrame({ROW: pl.Series([], dtype=pl.Int32)}))
    frame = frame.rename({c: f"c{i}" for i, c in enumerate(frame.columns)})
    frame = frame.with_columns(pl.all().cast(pl.String))
    header_index = _header_index(frame, sheet)
    headers = [("" if v is None else str(v).strip()) for v in frame.row(header_index)]
    cells = [f"c{i}" for i in range(frame.width)]
    blank = pl.all_horizontal(
        pl.col(c).is_null() | (pl.col(c).str.strip_chars().str.len_chars() == 0) for c in cells
    )
    body = (
        frame.with_row_index(ROW, offset=first_row)
        .with_columns(pl.col(ROW).cast(pl.Int32))
        .slice(header_index + 1)
        .filter(~blank)
    )
    return RawSheet(name, sheet, headers, body, header_row=header_index + first_row)


def _header_index(frame: pl.DataFrame, sheet: str | None) -> int:
    """The first of the top rows recognising the most contract columns (titles above tolerated)."""
    if sheet is None:
        return 0
    lookup = header_lookup(sheet)
    best, best_score = 0, 0
    for i, row in enumerate(frame.head(HEADER_SCAN_ROWS).iter_rows()):
        score = sum(1 for v in row if v is not None and fold(str(v)) in lookup)
        if score > best_score:
            best, best_score = i, score
    return best


def _short(exc: Exception) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:200]
