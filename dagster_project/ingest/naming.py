"""What a dropped file's name says: bailleur SIREN, bilan year, sheet; and safe output names."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePath

from dagster_project.ingest.contract import sheet_lookup
from dagster_project.ingest.text import fold, strip_accents

_NAME = re.compile(r"^\s*(\d{9})[\s_-]+(\d{4})(?:[\s_.-]+(.*))?$", re.ASCII)  # digits 0-9 only
SUPPORTED_EXTENSIONS = (".xlsx", ".csv")
MIN_YEAR, MAX_YEAR = 2000, 2099


@dataclass(frozen=True)
class FileName:
    name: str
    extension: str  # lower case, with the dot
    siren: str | None
    annee: int | None
    suffix: str  # what follows the year, as written
    sheet: str | None  # canonical sheet named by the suffix (CSV), if any

    @property
    def identified(self) -> bool:
        return self.siren is not None and self.annee is not None

    @property
    def partition_key(self) -> str | None:
        return f"{self.siren}_{self.annee}" if self.identified else None


def parse_file_name(name: str) -> FileName:
    path = PurePath(name)
    stem, extension = path.stem, path.suffix.lower()
    match = _NAME.match(stem)
    if not match:
        return FileName(name, extension, None, None, "", None)
    siren, year, suffix = match.group(1), int(match.group(2)), match.group(3) or ""
    return FileName(
        name=name,
        extension=extension,
        siren=siren,
        annee=year,
        suffix=suffix,
        sheet=_sheet_of_suffix(suffix),
    )


def _sheet_of_suffix(suffix: str) -> str | None:
    """The sheet named by a suffix: exact name or alias first, then its first word."""
    key = fold(suffix)
    lookup = sheet_lookup()
    if key in lookup:
        return lookup[key]
    return lookup.get(key.split("_")[0]) if key else None


def plausible_year(annee: int) -> bool:
    return MIN_YEAR <= annee <= MAX_YEAR


def siren_checksum_ok(siren: str) -> bool:
    """Luhn key of a SIREN (La Poste's 356000000, the exception of SIRETs, passes it)."""
    total = 0
    for i, ch in enumerate(reversed(siren)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def safe_file_name(name: str, max_len: int = 120) -> str:
    """A name safe to use inside an output folder: no separators, no leading dots, ASCII."""
    ascii_name = strip_accents(PurePath(name.replace("\\", "/")).name)
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", ascii_name).lstrip(".") or "fichier"
    return cleaned[:max_len]


def is_ignored(name: str) -> bool:
    """Office lock files and hidden files are not drops (``~$x.xlsx``, ``.~lock.x#``, ``.x``)."""
    return name.startswith(("~$", ".")) or name.endswith(("~", ".tmp", ".part"))
