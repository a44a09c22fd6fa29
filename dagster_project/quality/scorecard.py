"""The per-bailleur quality scorecard and status (contracts §4), with French summaries.

The status is the contract with the trames: a bailleur with ``bloque`` = true gets no trame.
A bailleur is blocked by an ERREUR failure on its own rows, or by an ERREUR failure that
concerns everyone (empty ``bailleur_siren``: a broken regional table, a check that could not
run). Each summary names the failing rule, the number of rows and the files to look at, so
the regional team can chase the right person.
"""

from __future__ import annotations

import polars as pl

BAILLEUR = ["bailleur_siren", "annee"]

# Which sheets of the bailleur's drop (format d'échange) a rule of §6 is about: the files
# behind these sheets (mart_sources) are the ones to correct.
RULE_SHEETS: dict[str, tuple[str, ...]] = {
    "§6.1": ("logements", "tours"),
    "§6.2": ("conventions", "tours"),
    "§6.3": ("conventions",),
    "§6.4": ("tours",),
    "§6.5": ("tours",),
    "§6.6": ("tours",),
    "§6.7": ("logements", "tours", "conventions"),
    "§6.8": ("logements", "tours"),
    "§6.9": ("tours",),
    "§6.10": ("logements", "tours"),
}
SOURCES_SCHEMA = {
    "bailleur_siren": pl.String,
    "annee": pl.Int64,
    "feuille": pl.String,
    "_source_file": pl.String,
}


def _rule_files(sources: pl.DataFrame) -> pl.DataFrame:
    """(bailleur_siren, annee, regle) → the source files of the sheets the rule is about."""
    rules = pl.DataFrame(
        [(regle, sheet) for regle, sheets in RULE_SHEETS.items() for sheet in sheets],
        schema={"regle": pl.String, "feuille": pl.String},
        orient="row",
    )
    return (
        sources.select(SOURCES_SCHEMA.keys())
        .cast(SOURCES_SCHEMA)
        .join(rules, on="feuille")
        .group_by(*BAILLEUR, "regle")
        .agg(pl.col("_source_file").unique().sort().str.join(", ").alias("fichiers"))
    )


def scorecard(outcomes: pl.DataFrame, sources: pl.DataFrame) -> pl.DataFrame:
    """Every outcome row (bailleur × expectation), failures carrying the files to correct."""
    return (
        outcomes.join(_rule_files(sources), on=[*BAILLEUR, "regle"], how="left")
        .with_columns(pl.when(~pl.col("succes")).then(pl.col("fichiers")).alias("fichiers"))
        .sort("bailleur_siren", "annee", "check", "suite", "expectation", nulls_last=True)
    )


def _lignes(n: int) -> str:
    return f"{n} ligne{'s' if n > 1 else ''} en échec"


def _failure_text(row: dict) -> str:
    text = f"[{row['regle']}] {row['note']}"
    details = []
    if row["nb_lignes_en_echec"]:
        details.append(_lignes(row["nb_lignes_en_echec"]))
    if row["exemples"]:
        details.append(f"ex. {row['exemples']}")
    if row.get("fichiers"):
        details.append(f"fichier(s) : {row['fichiers']}")
    return text + (f" ({' ; '.join(details)})" if details else "")


def _resume(failures: list[dict], global_failures: list[dict], nb_controles: int) -> str:
    errors = [f for f in failures if f["gravite"] == "ERREUR"]
    warnings = [f for f in failures if f["gravite"] == "AVERTISSEMENT"]
    parts = []
    if global_failures:
        parts.append(
            "Trames bloquées pour tous les bailleurs — contrôle général en erreur : "
            + " | ".join(_failure_text(f) for f in global_failures)
            + "."
        )
    if errors:
        parts.append(
            f"Trames bloquées — {len(errors)} contrôle{'s' if len(errors) > 1 else ''} en erreur : "
            + " | ".join(_failure_text(f) for f in errors)
            + "."
        )
    if not parts:
        parts.append(f"Aucune anomalie bloquante ({nb_controles} contrôles).")
    if warnings:
        parts.append("Avertissements : " + " | ".join(_failure_text(f) for f in warnings) + ".")
    return " ".join(parts)


def bailleur_status(card: pl.DataFrame, bailleurs: pl.DataFrame) -> pl.DataFrame:
    """One row per (bailleur_siren, annee) of ``bailleurs`` ∪ the scorecard, with ``bloque``
    and ``resume``."""
    global_failures = card.filter(
        pl.col("bailleur_siren").is_null() & ~pl.col("succes") & (pl.col("gravite") == "ERREUR")
    ).to_dicts()
    own = card.filter(pl.col("bailleur_siren").is_not_null())
    keys = (
        pl.concat(
            [
                own.select(BAILLEUR),
                bailleurs.select(BAILLEUR).cast({"bailleur_siren": pl.String, "annee": pl.Int64}),
            ]
        )
        .unique()
        .sort(BAILLEUR)
    )
    rows = []
    for siren, annee in keys.iter_rows():
        mine = own.filter((pl.col("bailleur_siren") == siren) & (pl.col("annee") == annee))
        failures = mine.filter(~pl.col("succes")).sort("gravite", "regle", "check").to_dicts()
        nb_erreurs = sum(f["gravite"] == "ERREUR" for f in failures)
        rows.append(
            {
                "bailleur_siren": siren,
                "annee": annee,
                "bloque": bool(global_failures) or nb_erreurs > 0,
                "nb_controles": mine.height,
                "nb_erreurs": nb_erreurs,
                "nb_avertissements": len(failures) - nb_erreurs,
                "resume": _resume(failures, global_failures, mine.height),
            }
        )
    schema = {
        "bailleur_siren": pl.String,
        "annee": pl.Int64,
        "bloque": pl.Boolean,
        "nb_controles": pl.Int64,
        "nb_erreurs": pl.Int64,
        "nb_avertissements": pl.Int64,
        "resume": pl.String,
    }
    return pl.DataFrame(rows, schema=schema)
