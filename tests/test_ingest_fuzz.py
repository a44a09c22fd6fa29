"""Property: whatever bytes are dropped under whatever name, ingesting the file returns one
verdict and writes its rapport de contrôle, in bounded memory, and raises nothing.

Valid workbooks and CSVs are mutated (bit flips, truncation, re-encoding, control and bidi
characters, huge cells, formulas, random bytes, zip entries whose headers lie). The budget is
short in ``make test``; ``make fuzz`` runs the ``fuzz`` profile (``HYPOTHESIS_PROFILE=fuzz``).
"""

from __future__ import annotations

import functools
import io
import itertools
import os
import re
import resource
import struct
import tempfile
import zipfile
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from ingest_samples import ANNEE, SHEETS, SIREN, csv_text

from dagster_project.ingest.pipeline import ACCEPTE, ACCEPTE_AVEC_AVERTISSEMENTS, REJETE, ingest_files
from dagster_project.settings import paths

settings.register_profile("short", max_examples=120, deadline=None, derandomize=True,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("fuzz", max_examples=2000, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "short"))

MAX_RSS_BYTES = int(1.5 * 1024**3)
VERDICTS = {ACCEPTE, ACCEPTE_AVEC_AVERTISSEMENTS, REJETE}
# Characters that broke later stages or hide text: C0/C1 controls, bidi overrides, BOM, noncharacters.
NASTY = ["\x00", "\x01", "\x0b", "\x0c", "\x1b", "\x7f", "\x85", "\u202e", "\u2066", "\u200f",
         "\ufeff", "\ufffe", "\uffff", "\ud800", "_x000B_", "_x0001_", "=HYPERLINK(\"x\")", "\r", "\n", ";", '"']


def _workbook(rows_by_sheet: dict[str, list[list]]) -> bytes:
    """Cached: openpyxl stamps the time into the file, and Hypothesis needs the same choices to
    give the same bytes."""
    key = repr(sorted(rows_by_sheet.items()))
    if key not in _WORKBOOKS:
        _WORKBOOKS[key] = _new_workbook(rows_by_sheet)
    return _WORKBOOKS[key]


_WORKBOOKS: dict[str, bytes] = {}


def _new_workbook(rows_by_sheet: dict[str, list[list]]) -> bytes:
    wb = Workbook()
    wb.remove(wb.active)
    for name, rows in rows_by_sheet.items():
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append([None if v == "" else v for v in row])
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


VALID_XLSX = _workbook(SHEETS)


@st.composite
def cells(draw) -> str:
    """A cell value: a valid one, a nasty character inside it, a huge one, or a formula."""
    kind = draw(st.sampled_from(["nasty", "huge", "formula", "text", "date"]))
    if kind == "nasty":
        return "ALS" + draw(st.sampled_from(NASTY)) + draw(st.text(max_size=5))
    if kind == "huge":
        return "x" * draw(st.sampled_from([40_000, 1_000_000]))
    if kind == "formula":
        return draw(st.sampled_from(["=1+2", "=A1", "=1/0", '=HYPERLINK("http://x")']))
    if kind == "date":
        return draw(st.sampled_from(["15/03/24", "31/02/2024", "2024-13-01", "٢٠٢٤-٠٣-١٥"]))
    return draw(st.text(max_size=30))


@st.composite
def edited_sheets(draw) -> dict[str, list[list]]:
    data = {k: [list(r) for r in v] for k, v in SHEETS.items()}
    for _ in range(draw(st.integers(1, 3))):
        sheet = draw(st.sampled_from(sorted(data)))
        rows = data[sheet]
        i, j = draw(st.integers(0, len(rows) - 1)), draw(st.integers(0, len(rows[0]) - 1))
        rows[i][j] = draw(cells())
    return data


_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _xlsx_with_legal_text(data: dict[str, list[list]]) -> bytes:
    """openpyxl refuses what XML cannot hold: control characters reach a workbook the way Excel
    stores them, as ``_x000B_`` escapes (in ``NASTY``), which the reader decodes."""
    return _workbook({s: [[_XML_ILLEGAL.sub("", v) if isinstance(v, str) else v for v in r] for r in rows]
                      for s, rows in data.items()})


def _lying_zip(data: bytes, draw) -> bytes:
    """Rewrite the declared sizes of zip entries (local and central headers)."""
    out = bytearray(data)
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        start = 0
        while (start := out.find(signature, start)) >= 0:
            if draw(st.booleans()) and start + offset + 4 <= len(out):
                value = draw(st.sampled_from([0, 1, 100, 2**31, 2**32 - 1]))
                out[start + offset:start + offset + 4] = struct.pack("<I", value)
            start += 4
    return bytes(out)


@functools.cache
def _bomb() -> bytes:
    buffer = io.BytesIO()
    source = zipfile.ZipFile(io.BytesIO(VALID_XLSX))
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for info in source.infolist():
            zf.writestr(info, source.read(info))
        zf.writestr("xl/media/padding.bin", b"\0" * (64 * 1024**2))
    return buffer.getvalue()


@st.composite
def contents(draw) -> tuple[str, bytes]:
    """(extension, bytes)."""
    kind = draw(st.sampled_from(["csv", "xlsx", "xlsx_raw", "random", "bomb"]))
    if kind == "random":
        return draw(st.sampled_from([".csv", ".xlsx"])), draw(st.binary(max_size=4096))
    if kind == "bomb":
        return ".xlsx", _lying_zip(_bomb(), draw) if draw(st.booleans()) else _bomb()
    data = draw(edited_sheets())
    if kind == "xlsx":
        raw = _xlsx_with_legal_text(data)
        if draw(st.booleans()):
            raw = _lying_zip(raw, draw)
    elif kind == "xlsx_raw":
        raw = VALID_XLSX
    else:
        sheet = draw(st.sampled_from(sorted(data)))
        text = csv_text([[str(v) for v in r] for r in data[sheet]], draw(st.sampled_from([";", ",", "\t"])))
        encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "latin-1", "cp1252"]))
        raw = text.encode(encoding, errors="surrogatepass" if "utf" in encoding else "replace")
        return f"_{sheet}.csv", _bit_flips(raw, draw)
    return ".xlsx", _bit_flips(raw, draw)


def _bit_flips(raw: bytes, draw) -> bytes:
    action = draw(st.sampled_from(["none", "flip", "truncate"]))
    if action == "flip" and raw:
        out = bytearray(raw)
        for _ in range(draw(st.integers(1, 8))):
            out[draw(st.integers(0, len(out) - 1))] ^= 1 << draw(st.integers(0, 7))
        return bytes(out)
    if action == "truncate" and raw:
        return raw[: draw(st.integers(0, len(raw) - 1))]
    return raw


names = st.sampled_from([
    f"{SIREN}_{ANNEE}", f"{SIREN}_{ANNEE} (copie)", f"{SIREN}_24", "٥٥٢٠٤٦٤٨٤_2024", "bilan",
    f"{SIREN}_{ANNEE}\x01\u202e", f"{SIREN}_{ANNEE}_" + "x" * 200, f"000000000_{ANNEE}",
])
_counter = itertools.count()


@given(name=names, content=contents(), extension=st.sampled_from(["", ".xlsm", ".CSV"]))
def test_any_drop_gets_a_verdict_and_a_rapport(fuzz_workspace, name, content, extension):
    suffix, data = content
    file_name = name + (suffix if suffix.startswith("_") else "") + (extension or (
        ".csv" if suffix.endswith(".csv") else suffix))
    folder = fuzz_workspace.landing / f"cas{next(_counter)}"
    folder.mkdir()
    path = folder / file_name
    path.write_bytes(data)

    (summary,) = ingest_files(fuzz_workspace, [path], run_id="fuzz")

    assert summary.statut in VERDICTS
    assert summary.rapport and Path(summary.rapport).is_file()
    found = pl.read_parquet(fuzz_workspace.raw_store / "anomalies" / f"{summary.version}.parquet")
    assert "FICHIER_NON_TRAITE" not in found["regle"].to_list()  # the net is not the design
    assert path.read_bytes() == data  # never modified
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 < MAX_RSS_BYTES


@pytest.fixture(scope="module")
def fuzz_workspace():
    """One workspace for every example (a function-scoped fixture would be shared anyway)."""
    with tempfile.TemporaryDirectory() as tmp:
        old = {k: os.environ.get(k) for k in ("FLUX_DATA_DIR", "FLUX_LANDING_DIR",
                                              "FLUX_LANDING_SETTLE_SECONDS", "FLUX_MAX_UNZIPPED_MB")}
        os.environ["FLUX_DATA_DIR"] = f"{tmp}/data"
        os.environ["FLUX_LANDING_DIR"] = f"{tmp}/data/raw"
        os.environ["FLUX_LANDING_SETTLE_SECONDS"] = "0"
        os.environ["FLUX_MAX_UNZIPPED_MB"] = "16"  # bombs (64 MB) are stopped at 16 MB: quick
        p = paths()
        p.landing.mkdir(parents=True)
        yield p
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
