"""Text at the door, and normalisation shared by header matching, code values and file names.

Every text a dropped file brings in (cells, headers, sheet names, the file's own name) goes
through ``visible`` / ``visible_expr`` once, when it is read: C0/C1 control characters,
bidirectional overrides, zero-width characters and Unicode noncharacters are removed, and a
cell is cut at Excel's own limit. Later stages (rapports, marts, trames written with openpyxl)
therefore never receive text they cannot write. What was removed or cut is reported by the
reader; per-column lengths are the contract's (``format_echange.csv``, ``longueur_max``).
"""

from __future__ import annotations

import re
import unicodedata

import polars as pl

_NON_ALNUM = re.compile(r"[^a-z0-9]+")

# Tab, line feed and carriage return stay: they are ordinary in a cell and every writer accepts them.
INVISIBLE = (
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200b-\u200f\u202a-\u202e"
    "\u2060-\u2064\u2066-\u2069\ufeff\ufff9-\ufffb\ufffe\uffff]"
)
_INVISIBLE = re.compile(INVISIBLE)
# The longest text an Excel cell holds: nothing longer can come from a real workbook.
MAX_CELL_CHARS = 32_767


def visible(text: str, max_chars: int = MAX_CELL_CHARS) -> str:
    """``text`` without invisible characters nor undecodable bytes (file names), cut to ``max_chars``."""
    if any("\ud800" <= ch <= "\udfff" for ch in text):  # os.fsdecode's surrogate escapes
        text = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return _INVISIBLE.sub("", text)[:max_chars]


def visible_expr(expr: pl.Expr) -> pl.Expr:
    """``visible`` as a Polars expression (Polars strings are valid UTF-8 already)."""
    return expr.str.replace_all(INVISIBLE, "").str.slice(0, MAX_CELL_CHARS)


def has_invisible(expr: pl.Expr) -> pl.Expr:
    return expr.str.contains(INVISIBLE)


def shorten(text: str, max_chars: int = 200) -> str:
    """A value quoted in a message: long values end with an ellipsis."""
    return text if len(text) <= max_chars else text[: max_chars - 1] + "…"


def strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def fold(text: str) -> str:
    """Case-, accent-, space- and punctuation-insensitive key: "Numéro de tour" → "numero_de_tour".

    Header keys also drop the French stop words "de", "du", "des", "d", "l", "la", "le"
    so that "Numéro de tour" and "numero_tour" are one column.
    """
    words = _NON_ALNUM.split(strip_accents(text).lower())
    return "_".join(w for w in words if w and w not in _STOP_WORDS)


_STOP_WORDS = frozenset({"de", "du", "des", "d", "l", "la", "le", "les"})


def _unaccent(expr: pl.Expr) -> pl.Expr:
    return expr.str.normalize("NFKD").str.replace_all(r"\p{M}", "")


def clean(expr: pl.Expr) -> pl.Expr:
    """Trim (including non-breaking spaces); blank → null."""
    trimmed = expr.str.replace_all(r"^[\s\u00a0\u202f]+|[\s\u00a0\u202f]+$", "")
    return pl.when(trimmed.str.len_chars() > 0).then(trimmed)


def code(expr: pl.Expr) -> pl.Expr:
    """A code value: "Échec carence" → "ECHEC_CARENCE", "pref 91" → "PREF_91"."""
    folded = _unaccent(expr).str.to_uppercase().str.replace_all(r"[^A-Z0-9]+", "_")
    stripped = folded.str.strip_chars("_")
    return pl.when(stripped.str.len_chars() > 0).then(stripped)


def label_key(expr: pl.Expr) -> pl.Expr:
    """Lookup key of a free label (financement, typologie): letters, digits and '+' only.

    "HLM/O", "hlm o" and "HLMO" share the key "HLMO"; "T5 et +" gives "T5ET+"; numeric
    codes read from Excel as "10.0" become "10".
    """
    upper = _unaccent(expr).str.to_uppercase().str.replace(r"^([0-9]+)\.0+$", "${1}")
    return upper.str.replace_all(r"[^A-Z0-9+]+", "")
