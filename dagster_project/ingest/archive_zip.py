"""Opening an xlsx (a zip archive) without trusting anything it declares.

Every entry is inflated here, in a stream, counting the bytes really produced: the archive is
refused as soon as the total passes ``FLUX_MAX_UNZIPPED_MB``, whatever sizes its headers
declare. An entry must end exactly where its deflate stream ends, with the declared size and
CRC. What passes is written to a *normalised copy* (entries stored uncompressed, headers we
wrote), and only that copy is given to the spreadsheet reader: it never inflates a byte we did
not count. The same pass finds formula cells, and those whose computed value was not saved.
"""

from __future__ import annotations

import os
import re
import struct
import zipfile
import zlib
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO
from xml.etree import ElementTree

from dagster_project.ingest.rejection import Rejection

DEFAULT_MAX_UNZIPPED_MB = 256
MAX_ZIP_ENTRIES = 10_000
_CHUNK = 1 << 16
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_LOCAL_HEADER = struct.Struct("<4s22xHH")
_CELL = re.compile(rb"<c\b([^>]*)>(.*?)</c>", re.S)
_REF = re.compile(rb'\br="([A-Z]{1,3}[0-9]{1,7})"')
_FORMULA = re.compile(rb"<f[\s>/]")
_VALUE = re.compile(rb"<v>[^<]|<is>")
_WORKSHEET = re.compile(r"^xl/worksheets/[^/]+\.xml$")


def max_unzipped_bytes() -> int:
    return int(float(os.environ.get("FLUX_MAX_UNZIPPED_MB", DEFAULT_MAX_UNZIPPED_MB)) * 1024**2)


@dataclass
class Unpacked:
    path: Path  # the normalised copy
    formulas: int = 0  # formula cells
    uncached: dict[str, list[str]] = field(default_factory=dict)  # sheet tab → cells without a value


def unpack(fh: BinaryIO, target: Path) -> Unpacked:
    """Check ``fh`` is a sane xlsx and write its normalised copy to ``target``."""
    magic = fh.read(8)
    if magic.startswith(_OLE_MAGIC):
        raise Rejection("FICHIER_XLS_OU_PROTEGE")
    if not magic.startswith(b"PK"):
        raise Rejection("FICHIER_NON_XLSX", "ce n'est pas une archive zip")
    fh.seek(0)
    try:
        infos = zipfile.ZipFile(fh).infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError, OSError) as exc:
        raise Rejection("FICHIER_ILLISIBLE", "archive zip tronquée ou corrompue") from exc
    _check_entries(infos)
    budget = _Budget(max_unzipped_bytes())
    unpacked = Unpacked(target)
    uncached_by_part: dict[str, list[str]] = {}
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as out:
        for info in infos:
            if info.is_dir():
                continue
            scan = _FormulaScan() if _WORKSHEET.match(info.filename) else None
            with out.open(info.filename, "w", force_zip64=True) as sink:
                for block in _inflate(fh, info, budget):
                    sink.write(block)
                    if scan is not None:
                        scan.feed(block)
            if scan is not None:
                unpacked.formulas += scan.count
                if scan.uncached:
                    uncached_by_part[info.filename] = scan.uncached
    if uncached_by_part:
        names = _sheet_parts(target)
        unpacked.uncached = {names.get(part, part): cells for part, cells in uncached_by_part.items()}
    return unpacked


def _check_entries(infos: list[zipfile.ZipInfo]) -> None:
    names = [i.filename for i in infos]
    if len(infos) > MAX_ZIP_ENTRIES:
        raise Rejection("FICHIER_ARCHIVE_SUSPECTE", f"{len(infos)} éléments dans l'archive")
    if len(set(names)) != len(names):
        raise Rejection("FICHIER_ARCHIVE_SUSPECTE", "plusieurs éléments portent le même nom")
    if "xl/workbook.xml" not in names:
        raise Rejection("FICHIER_NON_XLSX", "l'archive ne contient pas de classeur")
    if any(i.flag_bits & 0x1 for i in infos):
        raise Rejection("FICHIER_XLS_OU_PROTEGE")
    if any(i.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED) for i in infos):
        raise Rejection("FICHIER_ILLISIBLE", "méthode de compression non prise en charge")


class _Budget:
    def __init__(self, limit: int):
        self.limit, self.used = limit, 0

    def spend(self, n: int) -> None:
        self.used += n
        if self.used > self.limit:
            raise Rejection("FICHIER_ARCHIVE_SUSPECTE",
                            f"plus de {self.limit // 1024**2} Mo une fois décompressé")


def _inflate(fh: BinaryIO, info: zipfile.ZipInfo, budget: _Budget):
    """The real bytes of one entry, in blocks; its declared size and CRC must be true."""
    fh.seek(info.header_offset)
    header = fh.read(_LOCAL_HEADER.size)
    if len(header) < _LOCAL_HEADER.size or header[:4] != b"PK\x03\x04":
        raise Rejection("FICHIER_ILLISIBLE", "archive zip tronquée ou corrompue")
    name_len, extra_len = _LOCAL_HEADER.unpack(header)[1:]
    fh.seek(info.header_offset + _LOCAL_HEADER.size + name_len + extra_len)
    size, crc = 0, 0
    if info.compress_type == zipfile.ZIP_STORED:
        left = info.compress_size
        while left > 0:
            block = fh.read(min(_CHUNK, left))
            if not block:
                raise Rejection("FICHIER_ILLISIBLE", "archive zip tronquée ou corrompue")
            left -= len(block)
            budget.spend(len(block))
            size, crc = size + len(block), zlib.crc32(block, crc)
            yield block
    else:
        inflater = zlib.decompressobj(-zlib.MAX_WBITS)
        while not inflater.eof:
            data = inflater.unconsumed_tail or fh.read(_CHUNK)
            if not data:
                raise Rejection("FICHIER_ILLISIBLE", "archive zip tronquée ou corrompue")
            try:
                block = inflater.decompress(data, _CHUNK)  # never more than _CHUNK at once
            except zlib.error as exc:
                raise Rejection("FICHIER_ILLISIBLE", "archive zip corrompue") from exc
            budget.spend(len(block))
            size, crc = size + len(block), zlib.crc32(block, crc)
            yield block
    if size != info.file_size or crc != info.CRC:
        raise Rejection("FICHIER_ARCHIVE_SUSPECTE",
                        "la taille ou la somme de contrôle déclarées d'un élément sont fausses")


class _FormulaScan:
    """Counts formula cells in a worksheet's XML, and lists those without a saved value."""

    MAX_LISTED = 1000
    # A cell's XML is a few kB (Excel caps a formula at 8,192 characters): a longer stretch with
    # no </c> holds no formula cell, and carrying it from block to block would copy it again at
    # every block (quadratic on a forged sheet). Only its tail is kept, where a cell may begin.
    MAX_CARRY = 1 << 20

    def __init__(self) -> None:
        self.count = 0
        self.uncached: list[str] = []
        self._carry = b""

    def feed(self, block: bytes) -> None:
        data = self._carry + block
        end = data.rfind(b"</c>")
        if end < 0:
            self._carry = data if len(data) <= self.MAX_CARRY else data[-_CHUNK:]
            return
        end += 4
        done, self._carry = data[:end], data[end:]
        if not _FORMULA.search(done):
            return
        for cell in _CELL.finditer(done):
            body = cell.group(2)
            if _FORMULA.search(body):
                self.count += 1
                if not _VALUE.search(body) and len(self.uncached) < self.MAX_LISTED:
                    ref = _REF.search(cell.group(1))
                    self.uncached.append(ref.group(1).decode() if ref else "?")


_NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
       "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
       "p": "http://schemas.openxmlformats.org/package/2006/relationships"}


def _sheet_parts(copy: Path) -> dict[str, str]:
    """Worksheet part name → sheet tab name, from the copy's workbook and its relations."""
    try:
        with zipfile.ZipFile(copy) as zf:
            workbook = ElementTree.fromstring(zf.read("xl/workbook.xml"))
            rels = ElementTree.fromstring(zf.read("xl/_rels/workbook.xml.rels"))
    except (KeyError, ElementTree.ParseError):
        return {}
    targets = {r.get("Id"): r.get("Target", "") for r in rels.findall("p:Relationship", _NS)}
    out = defaultdict(str)
    for sheet in workbook.iterfind("m:sheets/m:sheet", _NS):
        target = targets.get(sheet.get(f"{{{_NS['r']}}}id"), "").lstrip("/")
        out["xl/" + target if not target.startswith("xl/") else target] = sheet.get("name", "")
    return dict(out)
