"""Peak memory of reading one dropped file: the largest allowed CSV, the largest workbook
(its sheet at the inflated-size limit) and a forged zip bomb.

Each file is ingested in a fresh process (``python -m dagster_project.bench.lecture --un
FILE``) whose own peak RSS (``ru_maxrss``) is the figure: nothing else of the benchmark
weighs on it. Target: 1.5 GiB for any single file up to the size limit.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from dagster_project.ingest.archive_zip import max_unzipped_bytes
from dagster_project.settings import max_file_bytes

TARGET_BYTES = int(1.5 * 1024**3)
SIREN, ANNEE = "552046484", 2024
_TOURS_HEADER = "logement_id;numero_tour;date_orientation;destinataire;categorie_operation;issue;date_issue\n"


def forge_csv(target: Path, size: int) -> int:
    """A valid ``tours`` CSV (the widest sheet, dates and per-dwelling rules) of ``size`` bytes."""
    rows = 0
    with target.open("w", encoding="utf-8") as fh:
        written = fh.write(_TOURS_HEADER)
        while written < size - 64:
            written += fh.write(f"L{rows:09d};1;01/02/{ANNEE};PREF93;;ATTRIBUE;01/03/{ANNEE}\n")
            rows += 1
    return rows


_XLSX_PARTS = {
    "[Content_Types].xml": (
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.'
        'spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType='
        '"application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>'),
    "_rels/.rels": (
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'),
    "xl/workbook.xml": (
        '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r='
        '"http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>'
        '<sheet name="tours" sheetId="1" r:id="rId1"/></sheets></workbook>'),
    "xl/_rels/workbook.xml.rels": (
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>'),
}


def _cells(row: int, values: list[str]) -> str:
    return f'<row r="{row}">' + "".join(
        f'<c t="inlineStr"><is><t>{v}</t></is></c>' if v else "<c/>" for v in values) + "</row>"


def forge_xlsx(target: Path, unzipped: int) -> int:
    """A ``tours`` workbook whose sheet XML is about ``unzipped`` bytes (the inflated-size limit)."""
    rows = 0
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, xml in _XLSX_PARTS.items():
            zf.writestr(name, xml)
        with zf.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as out:
            head = ('<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                    "<sheetData>" + _cells(1, _TOURS_HEADER.strip().split(";")))
            written = out.write(head.encode())
            while written < unzipped - 4096:
                rows += 1
                line = _cells(rows + 1, [f"L{rows:09d}", "1", f"01/02/{ANNEE}", "PREF93", "", "ATTRIBUE",
                                         f"01/03/{ANNEE}"])
                written += out.write(line.encode())
            out.write(b"</sheetData></worksheet>")
    return rows


def forge_bomb(target: Path, inflated_mib: int = 2048, declared: int = 1000) -> None:
    """An xlsx whose one extra entry inflates to ``inflated_mib`` MiB of zeros while its local
    and central headers declare ``declared`` bytes."""
    name = "xl/media/image1.png"
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("xl/workbook.xml", "<workbook/>")
        with zf.open(name, "w", force_zip64=True) as out:
            zeros = bytes(1 << 20)
            for _ in range(inflated_mib):
                out.write(zeros)
    data = bytearray(target.read_bytes())
    local = data.index(name.encode()) - 30
    central = data.index(name.encode(), local + 30 + len(name)) - 46
    # the zip64 extra field holds the true sizes: make it lie too
    for at in (local + 30 + len(name), central + 46 + len(name)):
        if data[at:at + 2] == b"\x01\x00":
            data[at + 4:at + 12] = declared.to_bytes(8, "little")
    data[local + 22:local + 26] = declared.to_bytes(4, "little")
    data[central + 24:central + 28] = declared.to_bytes(4, "little")
    target.write_bytes(bytes(data))


def measure_one(path: Path) -> dict:
    """Ingest ``path`` in a fresh process; its verdict, rules, duration and peak RSS."""
    done = subprocess.run([sys.executable, "-m", "dagster_project.bench.lecture", "--un", str(path)],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        return {"erreur": done.stderr.strip().splitlines()[-1:] or ["?"]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure(base: Path, say=print, bomb_mib: int = 2048) -> dict:
    """Forge the three files under ``base`` and measure them; the figures of the benchmark."""
    base.mkdir(parents=True, exist_ok=True)
    limit = max_file_bytes()
    csv_path = base / f"{SIREN}_{ANNEE}_tours.csv"
    if not csv_path.exists() or csv_path.stat().st_size > limit:
        say(f"[lecture] fabrication d'un CSV de {limit / 1024**2:.0f} Mo …")
        forge_csv(csv_path, limit)
    workbook = base / f"{SIREN}_{ANNEE}.xlsx"
    if not workbook.exists():
        say(f"[lecture] fabrication d'un classeur de {max_unzipped_bytes() / 1024**2:.0f} Mo décompressé …")
        forge_xlsx(workbook, max_unzipped_bytes())
    bomb = base / "bombe" / f"{SIREN}_{ANNEE}.xlsx"
    bomb.parent.mkdir(exist_ok=True)
    if not bomb.exists():
        say(f"[lecture] fabrication d'une bombe zip ({bomb_mib} Mio décompressés, en-têtes menteurs) …")
        forge_bomb(bomb, bomb_mib)
    figures = {"cible_octets": TARGET_BYTES, "taille_max_octets": limit}
    for label, path in (("csv_taille_max", csv_path), ("xlsx_decompresse_max", workbook), ("bombe_zip", bomb)):
        say(f"[lecture] {label} ({path.stat().st_size / 1024**2:.1f} Mo) …")
        figures[label] = {"taille_octets": path.stat().st_size} | measure_one(path)
    return figures


def _ingest_alone(path: Path) -> dict:
    """Child process: ingest one file in a throw-away workspace (a hard link, not a copy)."""
    with tempfile.TemporaryDirectory(prefix="flux-lecture-") as tmp:
        os.environ.update(FLUX_DATA_DIR=f"{tmp}/data", FLUX_LANDING_DIR=f"{tmp}/data/raw",
                          FLUX_LANDING_SETTLE_SECONDS="0")
        from dagster_project.ingest.pipeline import ingest_files
        from dagster_project.ingest.store import ANOMALIES, table_path
        from dagster_project.settings import paths

        p = paths()
        p.landing.mkdir(parents=True)
        dropped = p.landing / path.name
        try:
            os.link(path, dropped)
        except OSError:
            dropped.symlink_to(path)  # another file system: never measured as a link below
        start = time.perf_counter()
        (summary,) = ingest_files(p, [dropped], run_id="bench-lecture")
        seconds = time.perf_counter() - start
        import polars as pl

        rules = pl.read_parquet(table_path(p.raw_store, ANOMALIES, summary.version))["regle"].unique()
    return {"statut": summary.statut, "regles": sorted(rules.to_list()), "lignes": summary.lignes,
            "secondes": round(seconds, 1),
            "pic_rss_octets": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dagster_project.bench.lecture")
    parser.add_argument("--un", type=Path, required=True, help="fichier à lire (processus enfant)")
    args = parser.parse_args(argv)
    print(json.dumps(_ingest_alone(args.un.resolve())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
