"""Text normalisation shared by header matching, code values and file names."""

from __future__ import annotations

import re
import unicodedata

import polars as pl

_NON_ALNUM = re.compile(r"[^a-z0-9]+")


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
    upper = _unaccent(expr).str.to_uppercase().str.replace(r"^(\d+)\.0+$", "${1}")
    return upper.str.replace_all(r"[^A-Z0-9+]+", "")
