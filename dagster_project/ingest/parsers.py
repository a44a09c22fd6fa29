"""Value parsers as Polars expressions: text cell → typed value, plus a "parsed" flag.

Each parser takes the cleaned text (``text.clean``; null when blank) and returns
``(typed, ok)``: ``ok`` is false only when a non-blank cell could not be understood.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from dagster_project.ingest import vocabulary
from dagster_project.ingest.contract import Column
from dagster_project.ingest.text import code, label_key

# What each type expects, for the French messages ("… attendu").
EXPECTED = {
    "entier": "un nombre entier",
    "pourcentage": "un pourcentage (30, 30 %, 30,0)",
    "date": "une date (2024-03-15, 15/03/2024 ou date Excel)",
    "qpv": "1/2, oui/non, O/N, vrai/faux ou 0",
    "booleen": "oui ou non",
    "siren": "un SIREN à 9 chiffres",
    "commune": "un code INSEE à 5 caractères",
    "departement": "un code de département (75, 77, …)",
    "email": "une adresse électronique",
}

_SPACES = r"[\s\u00a0\u202f]"
_TRUE = ["1", "OUI", "O", "VRAI", "TRUE", "YES", "Y", "X"]
_FALSE = ["NON", "N", "FAUX", "FALSE", "NO", "0"]
_EXCEL_EPOCH = date(1899, 12, 30)

DTYPES = {
    "texte": pl.String,
    "code": pl.String,
    "libelle": pl.String,
    "entier": pl.Int32,
    "pourcentage": pl.Float64,
    "date": pl.Date,
    "qpv": pl.Boolean,
    "booleen": pl.Boolean,
    "siren": pl.String,
    "commune": pl.String,
    "departement": pl.String,
    "email": pl.String,
}


def number(s: pl.Expr) -> pl.Expr:
    """Decimal comma or point, spaces as thousands separators."""
    compact = s.str.replace_all(_SPACES, "").str.replace(",", ".", literal=True)
    return compact.cast(pl.Float64, strict=False)


def parse_integer(s: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    value = number(s)
    whole = value.is_not_null() & (value == value.floor()) & (value.abs() < 2**31)
    return pl.when(whole).then(value).cast(pl.Int32), s.is_null() | whole


def parse_percent(s: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    value = number(s.str.replace_all("%", "", literal=True))
    return value, s.is_null() | value.is_not_null()


_ISO_DATE = r"^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}$"
_FRENCH_DATE = r"^[0-9]{1,2}[/.-][0-9]{1,2}[/.-][0-9]{4}$"
_TWO_DIGIT_YEAR = r"^[0-9]{1,2}[/.-][0-9]{1,2}[/.-][0-9]{2}$"
NON_ASCII_DIGIT = r"[\p{Nd}--0-9]"


def parse_date(s: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """ISO (time part ignored), French d/m/Y (also - and .), or an Excel serial day number.

    The year has four digits: "15/03/24" is not read (see ``date_problem``).
    """
    first = s.str.extract(r"^(\S+)")
    iso = pl.when(first.str.contains(_ISO_DATE)).then(first).str.to_date("%Y-%m-%d", strict=False)
    french = (pl.when(first.str.contains(_FRENCH_DATE)).then(first)
              .str.replace_all(r"[-.]", "/").str.to_date("%d/%m/%Y", strict=False))
    serial = number(pl.when(s.str.contains(r"^[0-9]{4,5}([.,][0-9]+)?$")).then(s))
    excel = pl.when(serial.is_between(1, 2_958_465)).then(
        pl.lit(_EXCEL_EPOCH) + pl.duration(days=serial.floor().cast(pl.Int64))
    )
    value = pl.coalesce(iso, french, excel.cast(pl.Date))
    return value, s.is_null() | value.is_not_null()


def date_problem(s: pl.Expr) -> pl.Expr:
    """Why a date cell was not read, when it looks like a date: the rule to report, else null."""
    first = s.str.extract(r"^(\S+)")
    return (pl.when(first.str.contains(_TWO_DIGIT_YEAR)).then(pl.lit("DATE_ANNEE_DEUX_CHIFFRES"))
            .when(first.str.contains(_ISO_DATE) | first.str.contains(_FRENCH_DATE))
            .then(pl.lit("DATE_IMPOSSIBLE")))


def siren_key_ok(siren: pl.Expr) -> pl.Expr:
    """Luhn key of 9-digit SIRENs (as ``naming.siren_checksum_ok``)."""
    total = pl.lit(0)
    for i in range(9):
        digit = siren.str.slice(i, 1).cast(pl.Int32, strict=False)
        if i % 2:
            digit = digit * 2
            digit = pl.when(digit > 9).then(digit - 9).otherwise(digit)
        total = total + digit
    return (total % 10) == 0


def _boolean(s: pl.Expr, true: list[str], false: list[str]) -> tuple[pl.Expr, pl.Expr]:
    key = label_key(s)
    value = pl.when(key.is_in(true)).then(True).when(key.is_in(false)).then(False)
    return value, s.is_null() | value.is_not_null()


def parse_qpv(s: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """RPLS codes 1 = in a QPV, 2 = out; also oui/non, O/N, vrai/faux, 0."""
    return _boolean(s, _TRUE, [*_FALSE, "2"])


def parse_bool(s: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    return _boolean(s, _TRUE, _FALSE)


def _integral_text(s: pl.Expr) -> pl.Expr:
    """Excel numbers read as text: "91.0" → "91"; spaces and dots as separators removed."""
    return s.str.replace(r"^([0-9]+)\.0+$", "${1}").str.replace_all(_SPACES, "")


def parse_siren(s: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    value = _integral_text(s).str.replace_all(r"[.\-]", "")
    ok = value.str.contains(r"^[0-9]{9}$")
    return pl.when(ok).then(value), s.is_null() | ok


def parse_commune(s: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """INSEE code; a 4-digit number lost its leading zero in a spreadsheet."""
    raw = _integral_text(s).str.to_uppercase()
    value = pl.when(raw.str.contains(r"^[0-9]{4}$")).then(pl.concat_str(pl.lit("0"), raw)).otherwise(raw)
    ok = value.str.contains(r"^([0-9]{5}|2[AB][0-9]{3})$")
    return pl.when(ok).then(value), s.is_null() | ok


def parse_departement(s: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    raw = _integral_text(s).str.to_uppercase()
    value = pl.when(raw.str.contains(r"^[0-9]$")).then(pl.concat_str(pl.lit("0"), raw)).otherwise(raw)
    ok = value.str.contains(r"^([0-9]{2,3}|2[AB])$")
    return pl.when(ok).then(value), s.is_null() | ok


def parse_email(s: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    ok = s.str.contains(r"^[^@\s;,]+@[^@\s;,]+\.[^@\s;,]+$")
    return pl.when(ok).then(s), s.is_null() | ok


def parse_label(s: pl.Expr, seed: str) -> tuple[pl.Expr, pl.Expr]:
    """A free label mapped onto the seed's normalised value; unmapped labels kept as written."""
    mapped = label_key(s).replace_strict(vocabulary.label_mapping(seed), default=None)
    return pl.coalesce(mapped, s), pl.lit(True)


def parse(column: Column, s: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """Typed value and parsed flag of one contract column."""
    kind = column.type
    if kind == "texte":
        return s, pl.lit(True)
    if kind == "code":
        return code(s), pl.lit(True)
    if kind == "libelle":
        return parse_label(s, column.values)
    parser = {
        "entier": parse_integer,
        "pourcentage": parse_percent,
        "date": parse_date,
        "qpv": parse_qpv,
        "booleen": parse_bool,
        "siren": parse_siren,
        "commune": parse_commune,
        "departement": parse_departement,
        "email": parse_email,
    }[kind]
    return parser(s)
