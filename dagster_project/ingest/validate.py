"""Validation of one sheet against the format d'échange, as Polars expressions.

``validate_sheet`` maps the headers, types every column and collects *every* problem (not the
first one) as anomaly rows (feuille, ligne, colonne, valeur, regle, detail); gravité, message
and hint come from ``contrat/regles.csv``. Cross-sheet references are in ``references.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from dagster_project.ingest import vocabulary
from dagster_project.ingest.contract import Column, Sheet, accepted_names, header_lookup, sheets
from dagster_project.ingest.parsers import DTYPES, EXPECTED, NON_ASCII_DIGIT, date_problem, parse, siren_key_ok
from dagster_project.ingest.reader import ROW, RawSheet
from dagster_project.ingest.text import MAX_CELL_CHARS, clean, fold
from dagster_project.reference import codes_no_longer_valid, communes_of_year

ANOMALY_SCHEMA = {
    "feuille": pl.String,
    "ligne": pl.Int32,
    "colonne": pl.String,
    "valeur": pl.String,
    "regle": pl.String,
    "detail": pl.String,
}
EXTRA = "_extra"
_LONG_LIST = 12


def anomalies_frame(rows: list[dict]) -> pl.DataFrame:
    return pl.DataFrame(
        [{k: r.get(k) for k in ANOMALY_SCHEMA} for r in rows], schema=ANOMALY_SCHEMA
    )


@dataclass
class SheetResult:
    sheet: str
    name: str  # sheet tab or file name, as written
    typed: pl.DataFrame  # canonical typed columns + ROW + _extra
    anomalies: pl.DataFrame
    written: dict[str, str] = field(default_factory=dict)  # canonical column → header as written


class _Checks:
    """Collects anomaly queries over one lazy frame and runs them in one collect."""

    def __init__(self, frame: pl.LazyFrame, sheet: str):
        self.frame, self.sheet = frame, sheet
        self.queries: list[pl.LazyFrame] = []
        self.rows: list[dict] = []

    def add(self, rule: str, condition: pl.Expr, column: str, valeur: pl.Expr, detail=None,
            frame: pl.LazyFrame | None = None) -> None:
        detail_expr = detail if isinstance(detail, pl.Expr) else pl.lit(detail, pl.String)
        self.queries.append(
            (self.frame if frame is None else frame)
            .filter(condition)
            .select(
                feuille=pl.lit(self.sheet),
                ligne=pl.col(ROW).cast(pl.Int32),
                colonne=pl.lit(column),
                valeur=valeur.cast(pl.String),
                regle=pl.lit(rule),
                detail=detail_expr.cast(pl.String),
            )
        )

    def note(self, rule: str, **fields) -> None:
        self.rows.append({"feuille": self.sheet, "regle": rule, **fields})

    def collect(self) -> pl.DataFrame:
        parts = [anomalies_frame(self.rows)]
        if self.queries:
            parts.append(pl.concat(self.queries).collect())
        return pl.concat(parts).sort("ligne", nulls_last=False, maintain_order=True)


def _raw(name: str) -> str:
    return f"raw.{name}"


def _ok(name: str) -> str:
    return f"ok.{name}"


def validate_sheet(raw: RawSheet, annee: int) -> SheetResult:
    spec = sheets()[raw.sheet]
    notes = _Checks(pl.LazyFrame(), spec.name)
    positions, extras = _map_headers(raw, spec, notes)
    written = {c.name: raw.headers[positions[c.name][0]] if c.name in positions else c.name
               for c in spec.columns}
    present = set(positions)

    text = raw.frame.select(
        pl.col(ROW),
        *[
            (clean(pl.col(f"c{positions[c.name][0]}")) if c.name in present
             else pl.lit(None, pl.String)).alias(_raw(c.name))
            for c in spec.columns
        ],
        _extra_json(raw, extras),
    )
    typed_exprs, ok_exprs = [], []
    for c in spec.columns:
        value, ok = parse(c, pl.col(_raw(c.name)))
        typed_exprs.append(value.cast(DTYPES[c.type]).alias(c.name))
        ok_exprs.append(ok.alias(_ok(c.name)))
    # parsed once; every check below is a cheap query over the materialised frame
    frame = _sheet_specific_columns(spec.name, text.lazy().with_columns(*typed_exprs, *ok_exprs))
    frame = frame.collect().lazy()

    checks = _Checks(frame, spec.name)
    checks.rows = notes.rows
    for c in spec.columns:
        if c.name in present:
            _column_checks(checks, c, written[c.name], annee)
    _conditional_requirements(checks, spec, present, written)
    RULES_BY_SHEET[spec.name](checks, written, annee)

    typed = frame.select(pl.col(ROW), *[c.name for c in spec.columns], EXTRA).collect()
    return SheetResult(spec.name, raw.name, typed, checks.collect(), written)


# ------------------------------------------------------------------------------ headers


def _map_headers(raw: RawSheet, spec: Sheet, notes: _Checks) -> tuple[dict[str, list[int]], list[int]]:
    lookup = header_lookup(spec.name)
    positions: dict[str, list[int]] = {}
    extras: list[int] = []
    for j, header in enumerate(raw.headers):
        canonical = lookup.get(fold(header)) if header else None
        if canonical:
            positions.setdefault(canonical, []).append(j)
        elif header or raw.frame[f"c{j}"].null_count() < raw.frame.height:
            extras.append(j)
            label = header or f"(colonne {j + 1} sans en-tête)"
            notes.note("COLONNE_INCONNUE", ligne=raw.header_row, colonne=label, valeur=label)
    for canonical, js in positions.items():
        if len(js) > 1:
            names = ", ".join(f"« {raw.headers[j]} »" for j in js)
            notes.note("COLONNE_EN_DOUBLE", ligne=raw.header_row, colonne=raw.headers[js[1]],
                       valeur=canonical, detail=names)
    for c in spec.columns:
        if c.required in ("oui", "sauf_en_cours", "sauf_etat") and c.name not in positions:
            notes.note("COLONNE_MANQUANTE", ligne=raw.header_row, colonne=c.name, valeur=c.name,
                       detail=accepted_names(c))
    pieces = {c.name for c in spec.columns if c.required == "piece"}
    if pieces and not pieces & positions.keys():
        notes.note("COLONNE_PIECES_MANQUANTE", ligne=raw.header_row, colonne=" / ".join(sorted(pieces)))
    return positions, extras


def _extra_json(raw: RawSheet, extras: list[int]) -> pl.Expr:
    """Unknown columns kept aside as one JSON object per row (null when all empty)."""
    if not extras:
        return pl.lit(None, pl.String).alias(EXTRA)
    names: list[str] = []
    for j in extras:
        name = raw.headers[j] or f"colonne_{j + 1}"
        names.append(name if name not in names else f"{name}_{j + 1}")
    fields = [pl.col(f"c{j}").alias(n) for j, n in zip(extras, names, strict=True)]
    any_value = pl.any_horizontal(pl.col(f"c{j}").is_not_null() for j in extras)
    return pl.when(any_value).then(pl.struct(fields).struct.json_encode()).alias(EXTRA)


# ------------------------------------------------------------------------ column checks


def _bounds(c: Column, annee: int) -> tuple[float | None, float | None]:
    def value(text: str) -> float | None:
        if not text:
            return None
        return float(annee) if text == "annee" else float(text)

    return value(c.min), value(c.max)


def _column_checks(checks: _Checks, c: Column, written: str, annee: int) -> None:
    raw, typed = pl.col(_raw(c.name)), pl.col(c.name)
    if c.strictly_required:
        checks.add("VALEUR_MANQUANTE", raw.is_null(), written, raw, "")
    length = raw.str.len_chars()
    cut = length >= MAX_CELL_CHARS  # the reader cut it at Excel's limit: its real length is more
    shown = pl.when(cut).then(pl.lit(f"au moins {MAX_CELL_CHARS}")).otherwise(length.cast(pl.String))
    checks.add("TEXTE_TROP_LONG", length > c.max_length, written, raw,
               pl.format(f"{{}} caractères ; la colonne en accepte au plus {c.max_length}", shown))
    unread = ~pl.col(_ok(c.name))
    if c.type not in ("texte", "libelle"):  # a code or a number is written with digits 0-9
        foreign = raw.str.contains(NON_ASCII_DIGIT).fill_null(False)
        checks.add("CHIFFRES_NON_ASCII", foreign, written, raw, EXPECTED.get(c.type, "un code"))
        unread = unread & ~foreign
    if c.type == "date":
        problem = date_problem(raw)
        for rule in ("DATE_ANNEE_DEUX_CHIFFRES", "DATE_IMPOSSIBLE"):
            checks.add(rule, unread & (problem == rule).fill_null(False), written, raw)
        unread = unread & problem.is_null()
    if c.type == "siren":
        checks.add("SIREN_CLE", typed.is_not_null() & ~siren_key_ok(typed), written, raw)
    if c.type in EXPECTED:
        rule = "FORMAT_FACULTATIF_INVALIDE" if c.optional else "FORMAT_INVALIDE"
        checks.add(rule, unread, written, raw, EXPECTED[c.type])
    low, high = _bounds(c, annee)
    if low is not None or high is not None:
        if c.type == "pourcentage":
            outside, detail = (typed <= low) | (typed > high), f"supérieur à {low:g} et au plus {high:g}"
        elif high is None:
            outside, detail = typed < low, f"au moins {low:g}"
        else:
            outside, detail = (typed < low) | (typed > high), f"de {low:g} à {high:g}"
        checks.add("HORS_PLAGE", typed.is_not_null() & outside, written, raw, detail)
    if c.values and c.type == "commune":
        # Any code valid during the bilan year (reference.communes_of_year); a code of Île-de-
        # France that was valid in an earlier year only is not said to be outside the region.
        outside = typed.is_not_null() & ~typed.is_in(list(communes_of_year(annee)))
        expired = codes_no_longer_valid(annee)
        was_valid = typed.is_in(list(expired))
        checks.add("COMMUNE_CODE_PERIME", outside & was_valid, written, raw,
                   typed.replace_strict(expired, default=None, return_dtype=pl.String))
        checks.add("COMMUNE_HORS_IDF", outside & ~was_valid, written, raw)
    elif c.values:
        allowed = vocabulary.allowed(c)
        rule = "VALEUR_INTERDITE" if c.out_of_list == "ERREUR" else "VALEUR_NON_REFERENCEE"
        listed = ", ".join(allowed) if len(allowed) <= _LONG_LIST else f"référentiel {c.values}"
        checks.add(rule, typed.is_not_null() & ~typed.is_in(allowed), written, raw, listed)


def _conditional_requirements(checks: _Checks, spec: Sheet, present: set[str], written: dict) -> None:
    for c in spec.columns:
        raw = pl.col(_raw(c.name))
        if c.required == "piece" and c.name == "typologie" and present & {"nb_pieces", "typologie"}:
            both_empty = pl.col(_raw("nb_pieces")).is_null() & raw.is_null()
            checks.add("PIECES_MANQUANTES", both_empty, "nb_pieces / typologie", pl.lit(""))
        elif c.required == "sauf_en_cours" and c.name in present:
            issue = pl.col("issue")
            missing = raw.is_null() & issue.is_not_null() & (issue != "EN_COURS")
            checks.add("DATE_ISSUE_MANQUANTE", missing, written[c.name], pl.col(_raw("issue")))
        elif c.required == "sauf_etat" and c.name in present:
            not_state = ~pl.col("reservataire_categorie").is_in(vocabulary.state_categories())
            checks.add("VALEUR_MANQUANTE", raw.is_null() & not_state.fill_null(True), written[c.name],
                       raw, " (le SIREN n'est facultatif que pour les réservataires de l'État)")
        elif c.required == "hors_flux":
            hors_flux = pl.col("destinataire") == "HORS_FLUX"
            checks.add("HORS_FLUX_SANS_CATEGORIE", hors_flux & raw.is_null(), written[c.name], pl.lit(""))
            checks.add("CATEGORIE_SANS_HORS_FLUX", ~hors_flux & raw.is_not_null(), written[c.name], raw)


# ---------------------------------------------------------------- sheet-specific rules


def _sheet_specific_columns(sheet: str, frame: pl.LazyFrame) -> pl.LazyFrame:
    if sheet == "tours":
        return frame.with_columns(pl.col("origine").fill_null("RELOCATION"))
    if sheet == "conventions":
        code = pl.col("perimetre_code").str.replace(r"^([0-9]+)\.0+$", "${1}").str.to_uppercase()
        return frame.with_columns(perimetre_code=code.str.replace_all(r"[\s\u00a0]", ""))
    return frame


def _duplicates(checks: _Checks, keys: list[str], written: dict) -> None:
    complete = pl.all_horizontal(pl.col(k).is_not_null() for k in keys)
    repeated = complete & (pl.len().over(keys) > 1)
    detail = pl.concat_str([pl.format(f"{written[k]} = {{}}", pl.col(k).cast(pl.String)) for k in keys],
                           separator=", ")
    checks.add("DOUBLON", repeated, written[keys[0]], pl.col(_raw(keys[0])), detail)


def _rules_logements(checks: _Checks, written: dict, annee: int) -> None:
    _duplicates(checks, ["logement_id"], written)


def _rules_previsionnel(checks: _Checks, written: dict, annee: int) -> None:
    _duplicates(checks, ["departement", "categorie_operation"], written)


def _rules_tours(checks: _Checks, written: dict, annee: int) -> None:
    _duplicates(checks, ["logement_id", "numero_tour"], written)
    frame = checks.frame
    lid, rank, issue = pl.col("logement_id"), pl.col("numero_tour"), pl.col("issue")
    orient, outcome = pl.col("date_orientation"), pl.col("date_issue")
    in_year = (orient.dt.year() == annee) | (outcome.dt.year() == annee)

    per_dwelling = (
        frame.filter(lid.is_not_null())
        .group_by("logement_id")
        .agg(
            first_row=pl.col(ROW).min(),
            ranks=rank.drop_nulls().sort().cast(pl.String).str.join(", "),
            n=rank.drop_nulls().len(),
            n_unique=rank.drop_nulls().n_unique(),
            max_rank=rank.max(),
            attributed=rank.filter(issue == "ATTRIBUE").sort().cast(pl.String).str.join(", "),
            n_attributed=(issue == "ATTRIBUE").sum(),
            rank_attributed=rank.filter(issue == "ATTRIBUE").min(),
            rank_pending=rank.filter(issue == "EN_COURS").min(),
            any_in_year=in_year.fill_null(False).any(),
        )
    )
    grouped = per_dwelling.with_columns(pl.col("first_row").alias(ROW))
    gaps = (pl.col("n") > 0) & ((pl.col("max_rank") != pl.col("n")) | (pl.col("n_unique") != pl.col("n")))
    checks.add("TOUR_RANGS_DISCONTINUS", gaps, written["numero_tour"], lid, pl.col("ranks"), frame=grouped)
    checks.add("TOUR_DEUX_ATTRIBUTIONS", pl.col("n_attributed") > 1, written["issue"], lid,
               pl.col("attributed"), frame=grouped)

    rows = frame.join(per_dwelling, on="logement_id", how="left")
    checks.add("TOUR_APRES_ATTRIBUTION", rank > pl.col("rank_attributed"), written["numero_tour"], lid,
               pl.col("rank_attributed"), frame=rows)
    checks.add("TOUR_APRES_EN_COURS", rank > pl.col("rank_pending"), written["numero_tour"], lid,
               pl.col("rank_pending"), frame=rows)
    checks.add("ORIENTATION_APRES_ISSUE", orient > outcome, written["date_orientation"],
               pl.col(_raw("date_issue")), pl.col(_raw("date_orientation")))
    previous_outcome = outcome.shift(1).over("logement_id", order_by="numero_tour")
    checks.add("TOURS_CHEVAUCHEMENT", orient < previous_outcome, written["date_orientation"],
               pl.col(_raw("date_orientation")), previous_outcome.dt.to_string("%d/%m/%Y"))

    summary = frame.select(
        n=pl.len(), in_year=in_year.fill_null(False).sum(),
        first=pl.min_horizontal(orient.min(), outcome.min()),
        last=pl.max_horizontal(orient.max(), outcome.max()),
    ).collect().row(0, named=True)
    if summary["n"] and not summary["in_year"]:
        span = (f" (dates du fichier : du {summary['first']:%d/%m/%Y} au {summary['last']:%d/%m/%Y})"
                if summary["first"] else "")
        checks.note("ANNEE_CONTENU", colonne=written["date_orientation"], valeur=str(annee), detail=span)
    else:
        checks.add("VACANCE_HORS_ANNEE", ~pl.col("any_in_year"), written["date_orientation"], lid,
                   pl.lit(str(annee)), frame=grouped)


_PERIMETER_FORMAT = {
    "DEPARTEMENT": (r"^([0-9]{2,3}|2[AB])$", "DEPARTEMENT (2 chiffres)"),
    "COMMUNE": (r"^([0-9]{5}|2[AB][0-9]{3})$", "COMMUNE (code INSEE à 5 caractères)"),
    "EPCI": (r"^[0-9]{9}$", "EPCI (SIREN à 9 chiffres)"),
    "EPT": (r"^[0-9]{9}$", "EPT (SIREN à 9 chiffres)"),
}


def _rules_conventions(checks: _Checks, written: dict, annee: int) -> None:
    _duplicates(checks, ["reservataire_code", "perimetre_type", "perimetre_code"], written)
    code, ptype, pcode, taux = (pl.col(c) for c in ("reservataire_code", "perimetre_type",
                                                     "perimetre_code", "taux_flux"))
    names = (
        checks.frame.filter(code.is_not_null())
        .group_by("reservataire_code")
        .agg(
            pl.col(ROW).min(),
            n_names=pl.col("reservataire_nom").n_unique(),
            n_categories=pl.col("reservataire_categorie").n_unique(),
            detail=pl.concat_str(pl.col("reservataire_nom").fill_null(""), pl.lit(" / "),
                                 pl.col("reservataire_categorie").fill_null(""))
            .unique().sort().str.join(" ; "),
        )
    )
    inconsistent = (pl.col("n_names") > 1) | (pl.col("n_categories") > 1)
    checks.add("CONVENTION_INCOHERENTE", inconsistent, written["reservataire_code"],
               pl.col("reservataire_code"), pl.col("detail"), frame=names)

    for kind, (pattern, label) in _PERIMETER_FORMAT.items():
        wrong = (ptype == kind) & pcode.is_not_null() & ~pcode.str.contains(pattern)
        checks.add("PERIMETRE_CODE_INVALIDE", wrong, written["perimetre_code"], pcode, label)
    known = vocabulary.communes()
    territories = {
        "DEPARTEMENT": vocabulary.allowed(sheets()["previsionnel"].column("departement")),
        "COMMUNE": list(communes_of_year(annee)),
        "EPCI": known["epci_siren"].drop_nulls().unique().to_list(),
        "EPT": known["ept_siren"].drop_nulls().unique().to_list(),
    }
    for kind, codes in territories.items():
        pattern = _PERIMETER_FORMAT[kind][0]
        unknown = (ptype == kind) & pcode.str.contains(pattern) & ~pcode.is_in(codes)
        checks.add("PERIMETRE_INCONNU", unknown, written["perimetre_code"], pcode, pl.lit(kind))

    checks.add("TAUX_FRACTION", (taux > 0) & (taux <= 1), written["taux_flux"],
               pl.col(_raw("taux_flux")))
    start, end = f"{annee}-01-01", f"{annee}-12-31"
    outside = (pl.col("date_fin") < pl.lit(start).str.to_date()) | (
        pl.col("date_effet") > pl.lit(end).str.to_date())
    checks.add("CONVENTION_HORS_PERIODE", outside.fill_null(False), written["reservataire_code"],
               code, pl.lit(str(annee)))
    _rate_sums(checks, written, annee)


# Rate ceilings per commune: (rule, categories counted or None for all, ceiling in %).
_CEILINGS = (
    ("TAUX_SOMME", None, 100.0),
    ("TAUX_ETAT", "etat", 30.0),
    ("TAUX_FONCTIONNAIRES", ("ETAT_FONCTIONNAIRES",), 5.0),
)


def _rate_sums(checks: _Checks, written: dict, annee: int) -> None:
    """Sum the rates of every convention covering each commune; report per département.

    A commune is covered by conventions on its département, its EPCI, its EPT, itself and
    (Paris arrondissements) its parent commune. A convention on a code valid in ``annee`` but
    merged since (e.g. COMMUNE 93059 in 2024) covers a place of its own inside the commune that
    absorbed it, also covered by every perimeter of that commune: as quality's rate caps
    (quality/frames.rate_caps).
    """
    conventions = checks.frame.filter(pl.col("taux_flux").is_not_null()).select(
        "perimetre_type", "perimetre_code", "taux_flux", "reservataire_categorie")
    communes = vocabulary.communes().with_columns(absorbante=pl.col("commune_insee"))
    merged = pl.DataFrame(
        [(code, commune) for code, commune in communes_of_year(annee).items() if code != commune],
        schema={"commune_insee": pl.String, "absorbante": pl.String}, orient="row",
    ).join(communes.drop("commune_insee"), on="absorbante")
    named = conventions.filter(pl.col("perimetre_type") == "COMMUNE").select(
        commune_insee=pl.col("perimetre_code"))
    places = pl.concat([communes.lazy(),
                        merged.lazy().join(named, on="commune_insee", how="semi")],
                       how="diagonal")
    coverage = pl.concat(
        [
            places.select("commune_insee", "departement",
                          perimetre_type=pl.lit(kind), perimetre_code=pl.col(col))
            for kind, col in (("DEPARTEMENT", "departement"), ("COMMUNE", "commune_insee"),
                              ("COMMUNE", "commune_parent"), ("COMMUNE", "absorbante"),
                              ("EPCI", "epci_siren"), ("EPT", "ept_siren"))
        ]
    ).drop_nulls("perimetre_code").unique()
    covered = coverage.join(conventions, on=["perimetre_type", "perimetre_code"])
    state = vocabulary.state_categories()
    for rule, categories, ceiling in _CEILINGS:
        subset = covered
        if categories is not None:
            wanted = state if categories == "etat" else list(categories)
            subset = covered.filter(pl.col("reservataire_categorie").is_in(wanted))
        over = (
            subset.group_by("departement", "commune_insee")
            .agg(total=pl.col("taux_flux").sum())
            .filter(pl.col("total") > ceiling + 1e-9)
            .group_by("departement")
            .agg(pl.len(), pl.col("total").max(), example=pl.col("commune_insee").min())
            .with_columns(pl.lit(None, pl.Int32).alias(ROW))
        )
        detail = pl.format("jusqu'à {} % ; {} commune(s) concernée(s), par exemple {}",
                           pl.col("total").round(2), pl.col("len"), pl.col("example"))
        checks.add(rule, pl.lit(True), written["taux_flux"],
                   pl.format("département {}", pl.col("departement")), detail, frame=over)


RULES_BY_SHEET = {
    "logements": _rules_logements,
    "tours": _rules_tours,
    "conventions": _rules_conventions,
    "previsionnel": _rules_previsionnel,
}
