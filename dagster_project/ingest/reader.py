"""Tolerant, defensive reading of a dropped file into sheets of text cells.

Every cell is read as text (typing is the validator's job, with its own French messages);
row numbers are kept as the bailleur sees them (header = 1). Memory stays proportional to the
data: a CSV is transcoded to UTF-8 in a stream into a temporary file that Polars reads; an
xlsx is unpacked by ``archive_zip`` (bounded, normalised copy) before the spreadsheet reader
sees it. Files that cannot be read raise :class:`Rejection` with a French reason.
"""

from __future__ import annotations

import codecs
import logging
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import fastexcel
import polars as pl

from dagster_project.ingest.archive_zip import unpack
from dagster_project.ingest.contract import header_lookup, sheet_lookup
from dagster_project.ingest.naming import FileName
from dagster_project.ingest.rejection import Rejection
from dagster_project.ingest.text import MAX_CELL_CHARS, fold, has_invisible, visible, visible_expr

log = logging.getLogger(__name__)

ROW = "_row_number"
HEADER_SCAN_ROWS = 10
_CHUNK = 1 << 20


@dataclass
class RawSheet:
    name: str  # as written in the file (sheet tab name, or the CSV file name)
    sheet: str | None  # canonical sheet, None when unknown
    headers: list[str]  # header cells as written, one per column c0..cn
    frame: pl.DataFrame  # text columns c0..cn + ROW; blank rows removed; cells made visible
    header_row: int = 1
    notes: list[dict] = field(default_factory=list)  # what the door removed or cut, per column


@dataclass
class ReadResult:
    sheets: list[RawSheet]
    notes: list[dict] = field(default_factory=list)  # file-level anomalies (rule, detail)
    encoding: str | None = None
    separator: str | None = None


# ---------------------------------------------------------------------------------- CSV

# BOMs first; then UTF-8 when it decodes, else Windows-1252, else Latin-1 (decodes anything).
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
_FALLBACKS = ("utf-8", "cp1252", "latin-1")


def sniff_encoding(head: bytes) -> list[str]:
    """The encodings to try, in order, from the first bytes of the file."""
    for bom, encoding in _BOMS:
        if head.startswith(bom):
            return [encoding]
    if head.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):
        raise Rejection("FICHIER_ENCODAGE", "c'est un classeur Excel renommé en .csv, pas un fichier texte")
    if b"\0" in head:  # UTF-16 without BOM, or not text at all
        even, odd = head[0::2].count(0), head[1::2].count(0)
        if odd > len(head) // 4 and even == 0:
            return ["utf-16-le"]
        if even > len(head) // 4 and odd == 0:
            return ["utf-16-be"]
        raise Rejection("FICHIER_ENCODAGE", "il contient des octets nuls : ce n'est pas un fichier texte")
    return list(_FALLBACKS)


def transcode(fh: BinaryIO, target: Path) -> str:
    """Write ``fh`` as UTF-8 to ``target``, in a stream; returns the encoding it was read in."""
    head = fh.read(4096)
    for encoding in sniff_encoding(head):
        fh.seek(0)
        decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
        try:
            with target.open("w", encoding="utf-8", newline="") as out:
                while chunk := fh.read(_CHUNK):
                    out.write(decoder.decode(chunk))
                out.write(decoder.decode(b"", final=True))
            return encoding
        except UnicodeDecodeError:
            continue
    raise Rejection("FICHIER_ENCODAGE", "certains octets ne correspondent à aucun caractère")


def sniff_separator(first_line: str) -> str:
    """The most frequent of ; , tab outside quotes in the first non-blank line."""
    unquoted = re.sub(r'"[^"]*"', "", first_line)
    counts = {sep: unquoted.count(sep) for sep in (";", ",", "\t")}
    best = max(counts, key=lambda s: counts[s])
    return best if counts[best] else ";"


def _first_line(path: Path) -> tuple[int, str]:
    """Number of leading blank lines, and the first non-blank line (read line by line)."""
    with path.open(encoding="utf-8", newline="") as fh:
        for i, line in enumerate(fh):
            if line.strip():
                return i, line[:100_000]
    return 0, ""


def read_csv(fh: BinaryIO, file_name: FileName) -> ReadResult:
    with tempfile.TemporaryDirectory(prefix="flux-csv-") as tmp:
        utf8 = Path(tmp) / "utf8.csv"
        encoding = transcode(fh, utf8)
        leading_blank, first = _first_line(utf8)
        if not first.strip(" \t;,\"\r\n"):
            raise Rejection("FICHIER_SANS_DONNEES")
        separator = sniff_separator(first)
        try:
            frame = pl.read_csv(utf8, separator=separator, has_header=False, infer_schema=False,
                                quote_char='"', skip_rows=leading_blank, low_memory=True)
        except Exception as exc:  # polars raises several error kinds on malformed CSV
            log.info("CSV illisible %s : %r", file_name.name, exc)
            raise Rejection("FICHIER_ILLISIBLE", _csv_problem(exc)) from exc
    sheet = _raw_sheet(file_name.name, file_name.sheet, frame, first_row=leading_blank + 1)
    return ReadResult([sheet], encoding=encoding, separator=separator)


def _csv_problem(exc: Exception) -> str:
    """Polars' known CSV errors, in French (the technical text goes to the log)."""
    text = str(exc)
    if "more fields" in text:
        return "une ligne compte plus de colonnes que la première ligne"
    if "quote" in text.lower():
        return "un guillemet n'est pas refermé"
    return "CSV mal formé"


# --------------------------------------------------------------------------------- XLSX


def read_xlsx(fh: BinaryIO) -> ReadResult:
    with tempfile.TemporaryDirectory(prefix="flux-xlsx-") as tmp:
        unpacked = unpack(fh, Path(tmp) / "copie.xlsx")
        try:
            reader = fastexcel.read_excel(unpacked.path)
            tabs = [(tab, reader.load_sheet(tab, header_row=None, dtypes="string").to_polars())
                    for tab in reader.sheet_names]
        except Exception as exc:  # calamine errors are not a stable hierarchy
            log.info("Classeur illisible : %r", exc)
            raise Rejection("FICHIER_ILLISIBLE", "le classeur est corrompu ou d'un format inattendu") from exc
    notes = ([{"regle": "FICHIER_FORMULES", "detail": f"{unpacked.formulas} cellule(s)"}]
             if unpacked.formulas else [])
    sheets = []
    for tab, frame in tabs:
        sheet = _raw_sheet(tab, sheet_lookup().get(fold(tab)), _french_dates(frame))
        sheet.notes += [{"regle": "FORMULE_SANS_VALEUR", "ligne": _row_of(ref), "colonne": ref, "valeur": ref}
                        for ref in unpacked.uncached.get(tab, [])]
        sheets.append(sheet)
    return ReadResult(sheets, notes=notes)


def _row_of(ref: str) -> int | None:
    digits = ref.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
    return int(digits) if digits.isdigit() else None


def _french_dates(frame: pl.DataFrame) -> pl.DataFrame:
    """Date cells read as "2024-05-24 00:00:00" are shown as the bailleur typed them: 24/05/2024."""
    stamp = r"^(\d{4})-(\d{2})-(\d{2}) 00:00:00$"
    return frame.with_columns(pl.col(c).cast(pl.String).str.replace(stamp, "${3}/${2}/${1}")
                              for c in frame.columns)


# ------------------------------------------------------------------------------- shared


def _raw_sheet(name: str, sheet: str | None, frame: pl.DataFrame, first_row: int = 1) -> RawSheet:
    """Locate the header row, number the rows as the bailleur sees them, drop blank rows, and
    pass every cell through the door (``text.visible_expr``), reporting what it changed.

    ``first_row`` is the file row of the frame's first row (CSV leading blank lines skipped).
    """
    name = visible(name)
    if frame.width == 0 or frame.height == 0:
        return RawSheet(name, sheet, [], pl.DataFrame({ROW: pl.Series([], dtype=pl.Int32)}))
    frame = frame.rename({c: f"c{i}" for i, c in enumerate(frame.columns)})
    frame = frame.with_columns(pl.all().cast(pl.String))
    header_index = _header_index(frame, sheet)
    headers = [("" if v is None else visible(str(v)).strip()) for v in frame.row(header_index)]
    cells = [f"c{i}" for i in range(frame.width)]
    body = (
        frame.with_row_index(ROW, offset=first_row)
        .with_columns(pl.col(ROW).cast(pl.Int32))
        .slice(header_index + 1)
    )
    notes, changed = _door_notes(body, headers, cells)
    body = body.with_columns(visible_expr(pl.col(c)) for c in changed)  # only those are copied
    blank = pl.all_horizontal(
        pl.col(c).is_null() | (pl.col(c).str.strip_chars().str.len_chars() == 0) for c in cells
    )
    if body.select(blank.any()).item():
        body = body.filter(~blank)
    return RawSheet(name, sheet, headers, body, header_row=header_index + first_row, notes=notes)


_EXAMPLE_ROWS = 5


def _door_notes(body: pl.DataFrame, headers: list[str], cells: list[str]) -> tuple[list[dict], list[str]]:
    """One note per column whose cells hold invisible characters, and the columns to clean
    (those, and any holding a cell longer than Excel allows: cut there, the validator reports
    the contract's per-column limits)."""
    exprs = []
    for c in cells:
        hit = has_invisible(pl.col(c)).fill_null(False)
        exprs += [hit.sum().alias(f"{c}|n"), pl.col(ROW).filter(hit).head(_EXAMPLE_ROWS).implode().alias(f"{c}|rows"),
                  (pl.col(c).str.len_chars() > MAX_CELL_CHARS).any().alias(f"{c}|long")]
    found = body.select(exprs).row(0, named=True)
    notes = []
    for j, c in enumerate(cells):
        count, rows = found[f"{c}|n"], found[f"{c}|rows"]
        if count:
            label = headers[j] or f"colonne {j + 1}"
            listed = ", ".join(str(r) for r in rows) + (", …" if count > len(rows) else "")
            where = f"1 cellule, ligne {listed}" if count == 1 else f"{count} cellules, lignes {listed}"
            notes.append({"regle": "TEXTE_INVISIBLE", "ligne": rows[0], "colonne": label, "valeur": label,
                          "detail": where})
    return notes, [c for c in cells if found[f"{c}|n"] or found[f"{c}|long"]]


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
