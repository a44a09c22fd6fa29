"""Across years: the figures of N beside those of N-1 (« évolution ») and the forecast of N
made in campaign N-1 against the dwellings actually subtracted in N (« prévu et réalisé »).

Every builder returns None when there is nothing to compare (no N-1 for the bailleur, the
réservataire or the territory; no prévisionnel dropped in N-1): a trame then says nothing
about N-1, not even an empty table. Figures are shown as the bilan of each year shows them
(droit rounded half up, écart = réalisé − droit arrondi), so each column adds up with the
trame of that year.
"""

from __future__ import annotations

from collections.abc import Iterable

import polars as pl

from dagster_project.trames import categories
from dagster_project.trames.common import departement_label
from dagster_project.trames.model import PCT, TEXT, Field, Ratio, Sheet, Table, table
from dagster_project.trames.tables import as_int, round_half_up, share

RESERVATAIRE = "RESERVATAIRE"
# indicateur of mart_evolution → its line, in the order of the bilan tables
INDICATEURS = {
    RESERVATAIRE: {
        "proposes": "Logements proposés",
        "attribues": "Logements attribués",
        "repris": "Logements repris par le bailleur après carence",
        "realise": "Réalisé (attribués + repris imputés)",
        "droit": "Droit (arrondi)",
        "ecart": "Écart réalisé − droit",
    },
    "TERRITOIRE": {
        "flux_brut": "Flux brut",
        "soustraits": "Logements soustraits du flux",
        "flux_net": "Flux net",
        "proposes": "Logements proposés (tous destinataires, hors flux exclu)",
        "attribues": "Logements attribués (tous destinataires, hors flux exclu)",
    },
}
# column headers of the wide tables: "<short> 2024", "<short> 2025", "Évolution <short>"
SHORT = {"proposes": "Proposés", "attribues": "Attribués", "realise": "Réalisé",
         "droit": "Droit", "ecart": "Écart", "flux_net": "Flux net"}
EVOLUTION, TAUX = "Évolution", "Évolution (%)"
EVOLUTION_TITLE = "Évolution par rapport à"
FORECAST_TITLE = "prévus avec le bilan"


def displayed(values: dict[str, float | None]) -> dict[str, int | None]:
    """One year's figures as its bilan prints them: integers, droit rounded half up, écart
    recomputed from the rounded droit; None where the year has no figure."""
    out = {k: None if v is None else round_half_up(v) for k, v in values.items()}
    if "ecart" in values:
        droit = out.get("droit")
        realise = values.get("realise")
        out["ecart"] = None if droit is None or realise is None else as_int(realise) - droit
    return out


def _years(rows: Iterable[dict]) -> tuple[dict[str, int | None], dict[str, int | None]]:
    rows = list(rows)
    before = displayed({r["indicateur"]: r["valeur_n_1"] for r in rows})
    now = displayed({r["indicateur"]: r["valeur_n"] for r in rows})
    return before, now


def change(before: int | None, now: int | None) -> tuple[int | None, float | None]:
    """(N − N-1, the change relative to |N-1|) of two printed figures; None when one is missing."""
    if before is None or now is None:
        return None, None
    return now - before, share(now - before, abs(before))


def evolution_table(rows: pl.DataFrame, annee: int, niveau: str, note: str | None = None) -> Table | None:
    """One réservataire's or territory's figures of N-1 and N, one line per indicator; None
    when N-1 has none (a bailleur without N-1, a réservataire new in N)."""
    if rows.is_empty() or rows["valeur_n_1"].is_null().all():
        return None
    before, now = _years(rows.iter_rows(named=True))
    labels = INDICATEURS[RESERVATAIRE if niveau == RESERVATAIRE else "TERRITOIRE"]
    records = [(label, before.get(k), now.get(k)) for k, label in labels.items() if k in now]
    return table(
        f"{EVOLUTION_TITLE} {annee - 1}",
        (
            Field("Indicateur", lambda r: r[0], TEXT, cap=56),
            Field(str(annee - 1), lambda r: r[1]),
            Field(str(annee), lambda r: r[2]),
            Field(EVOLUTION, lambda r: change(r[1], r[2])[0]),
            Field(TAUX, lambda r: change(r[1], r[2])[1], PCT),
        ),
        records,
        total=None,
        note=" ".join(filter(None, (
            "Chiffres de chaque année tels que publiés dans son bilan ; évolution en % rapportée "
            f"à la valeur absolue de {annee - 1}, vide quand celle-ci est nulle ; case vide : "
            "aucun chiffre cette année-là.",
            note,
        ))),
    )


def of(evolution: pl.DataFrame, niveau: str, code: str | None = None) -> pl.DataFrame:
    """The rows of one réservataire or territory (``niveau``, ``code``) in ``mart_evolution``
    or its regional sum; ``code`` None: rows already of one code."""
    if evolution.is_empty():
        return evolution
    keep = pl.col("niveau") == niveau
    return evolution.filter(keep if code is None else keep & (pl.col("code") == code))


def notice_keys(sheets: Iterable[Sheet]) -> tuple[str, ...]:
    """The notice lines of the across-years blocks a trame shows (none when it shows none)."""
    titles = [t.title for sheet in sheets for t in sheet.tables]
    return (
        *(("evolution",) if any(t.startswith(EVOLUTION_TITLE) for t in titles) else ()),
        *(("prevu_realise",) if any(FORECAST_TITLE in t for t in titles) else ()),
    )


def present(*tables: Table | None) -> tuple[Table, ...]:
    return tuple(t for t in tables if t is not None)


def like_for_like_note(rows: pl.DataFrame, annee: int) -> str:
    """The regional comparison adds up the same bailleurs both years: say which."""
    n = as_int(rows["nb_bailleurs_comparables"].max()) if rows.height else 0
    return (
        f"Comparaison à périmètre constant : {n} bailleur(s) publié(s) en {annee - 1} et en "
        f"{annee}, les mêmes les deux années ; un bailleur publié une seule des deux années "
        "n'entre pas dans cette comparaison (ses chiffres restent dans le bilan de son année)."
    )


def wide_table(
    title: str,
    rows: pl.DataFrame,
    annee: int,
    label: Field,
    indicators: tuple[str, ...],
    note: str,
    niveau_labels: dict[str, str] | None = None,
) -> Table | None:
    """Several réservataires or territories, one line each: N-1, N and the change of a few
    indicators (the regional synthesis). ``niveau_labels``: territories of several kinds, which
    overlap (a type column, no total)."""
    if rows.is_empty():
        return None
    records = []
    for (niveau, code), part in rows.group_by(["niveau", "code"]):
        before, now = _years(part.iter_rows(named=True))
        libelle = part["libelle"].drop_nulls().first() or code
        records.append(
            {"niveau": niveau, "code": code, "libelle": libelle, "before": before, "now": now}
        )
    records.sort(key=lambda r: (r["niveau"], r["libelle"], r["code"]))
    fields = [label]
    if niveau_labels:  # a label: next to the name, before the figures
        fields.append(Field("Type", lambda r: niveau_labels.get(r["niveau"], r["niveau"]), TEXT))
    for k in indicators:
        name = SHORT[k]
        fields += [
            Field(f"{name} {annee - 1}", lambda r, k=k: r["before"].get(k)),
            Field(f"{name} {annee}", lambda r, k=k: r["now"].get(k)),
            # no total: a line present one year only would make it differ from the totals' change
            Field(
                f"{EVOLUTION} {name.lower()}",
                lambda r, k=k: change(r["before"].get(k), r["now"].get(k))[0],
                total=None,
            ),
        ]
    total = None if niveau_labels else "Total"
    return table(title, fields, records, total=total, note=note, filterable=True)


# ------------------------------------------------------------------ forecast against reality

PREVUS, SOUSTRAITS = "Prévus", "Soustraits"


def forecast_table(rows: pl.DataFrame, annee: int, dep: str) -> Table | None:
    """The prévisionnel of N (dropped with bilan N-1) against what was subtracted in N, by
    catégorie d'opération (all of them, zeros included); None when there was no forecast."""
    if rows.is_empty():
        return None
    cells = {r["categorie_operation"]: r for r in rows.iter_rows(named=True)}
    records = [(label, cells.pop(code, {})) for code, label in categories.categories_operation()]
    # a catégorie outside the reference list, as it came
    records += [(row.get("libelle") or code, row) for code, row in sorted(cells.items())]
    prevus, soustraits = f"{PREVUS} pour {annee} (prévisionnel {annee - 1})", f"{SOUSTRAITS} en {annee}"
    return table(
        f"{departement_label(dep)} : logements soustraits du flux en {annee}, {FORECAST_TITLE} "
        f"{annee - 1} et réalisés",
        (
            # wide enough for the longest label on one line (Arial 10 in LibreOffice)
            Field("Catégorie d'opération", lambda r: r[0], TEXT, cap=60),
            Field(prevus, lambda r: as_int(r[1].get("prevus"))),
            Field(soustraits, lambda r: as_int(r[1].get("soustraits"))),
            Field("Écart (soustraits − prévus)", lambda r: as_int(r[1].get("soustraits")) - as_int(r[1].get("prevus"))),
            Field(
                "Taux de réalisation",
                lambda r: share(r[1].get("soustraits"), r[1].get("prevus")),
                PCT,
                Ratio(soustraits, prevus),
            ),
            Field(f"Attributions de relogement {annee}", lambda r: as_int(r[1].get("attributions_relogement"))),
        ),
        records,
        note="Taux de réalisation : soustraits / prévus, vide quand rien n'était prévu.",
    )


def forecast_of(rows: pl.DataFrame, dep: str) -> pl.DataFrame:
    return rows.filter(pl.col("departement") == dep) if rows.height else rows
