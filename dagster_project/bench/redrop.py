"""The incremental case: one bailleur drops a corrected tours file next to its first one.

The original file is never touched: each correction is a NEW file, same name, in a
``correction/`` (then ``correction-2/``…) sub-folder of the bailleur's folder, written later (so it supersedes the first
drop, contracts.md §2). It sends a few tours to the bailleur itself instead of a réservataire:
a plausible correction that moves figures in that réservataire's trame and in the regional
consolidations.
"""

from __future__ import annotations

import codecs
import csv
import io
from pathlib import Path

CORRECTION_DIR = "correction"
NB_CORRECTED_ROWS = 5
OWN_DESTINATIONS = {"BAILLEUR", "HORS_FLUX", ""}
CORRECTED_DESTINATION = "BAILLEUR"


def tours_files(landing: Path) -> list[Path]:
    """Dropped tours CSV files (the XLSX bailleurs carry their tours inside the workbook)."""
    return sorted(landing.glob("*/*_tours.csv"))  # the corrections are one level deeper


def largest_tours_file(landing: Path) -> Path:
    files = tours_files(landing)
    if not files:
        raise FileNotFoundError(f"aucun fichier *_tours.csv dans {landing}")
    return max(files, key=lambda p: (p.stat().st_size, p.name))


def decode(data: bytes) -> tuple[str, str]:
    """(text, encoding) of a dropped CSV: UTF-8 with BOM, else UTF-8, else Windows-1252."""
    if data.startswith(codecs.BOM_UTF8):
        return data.decode("utf-8-sig"), "utf-8-sig"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return data.decode("cp1252"), "cp1252"


def correct_tours(data: bytes, nb_rows: int = NB_CORRECTED_ROWS, skip: int = 0) -> tuple[bytes, int]:
    """The file with ``nb_rows`` tours sent to a réservataire (after the first ``skip`` ones)
    redirected to the bailleur, in the file's own encoding, separator and line endings; and
    how many rows changed."""
    text, encoding = decode(data)
    newline = "\r\n" if "\r\n" in text else "\n"
    dialect = csv.Sniffer().sniff(text.split(newline, 1)[0], delimiters=";,\t")
    rows = list(csv.reader(io.StringIO(text, newline=""), dialect))
    header = [h.strip().lower() for h in rows[0]]
    column = next(i for i, h in enumerate(header) if "destinataire" in h)
    changed = seen = 0
    for row in rows[1:]:
        if changed == nb_rows:
            break
        if len(row) > column and row[column].strip().upper() not in OWN_DESTINATIONS:
            seen += 1
            if seen > skip:
                row[column] = CORRECTED_DESTINATION
                changed += 1
    out = io.StringIO(newline="")
    csv.writer(out, delimiter=dialect.delimiter, lineterminator=newline).writerows(rows)
    return out.getvalue().encode(encoding), changed


def drop_correction(original: Path, n: int = 1) -> tuple[Path, int]:
    """Write the ``n``-th corrected copy of ``original`` as a new file (each one corrects
    further rows, so its content is new); return it and the number of rows changed."""
    corrected, changed = correct_tours(original.read_bytes(), skip=(n - 1) * NB_CORRECTED_ROWS)
    folder = CORRECTION_DIR if n == 1 else f"{CORRECTION_DIR}-{n}"
    target = original.parent / folder / original.name
    target.parent.mkdir(exist_ok=True)
    target.write_bytes(corrected)
    return target, changed


def remove_corrections(landing: Path) -> None:
    """Undo previous benchmark re-drops so the landing folder is the generator's again."""
    for folder in landing.glob(f"*/{CORRECTION_DIR}*"):
        for path in folder.iterdir():
            path.unlink()
        folder.rmdir()
