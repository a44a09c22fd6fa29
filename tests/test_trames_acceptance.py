"""The acceptance campaign end to end: every figure of attendu.csv is found, equal, on the trames.

The whole pipeline runs once (ingestion, dbt, quality, publication, trames) on the shared
acceptance files; then each workbook is read back like a recipient would and compared with
``tests/fixtures/acceptance-2024/attendu.csv`` (droit and écart as shown: droit rounded half
up, écart = réalisé − droit arrondi).
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from pathlib import Path

import polars as pl
import pytest
from trames_readback import by_first_column, read_tables

from dagster_project.trames import categories
from dagster_project.trames.common import departement_label

ACCEPTANCE = Path(__file__).parent / "fixtures" / "acceptance-2024"
DIMENSIONS = {"periode": "periode_construction"}
BILAN = "Bilan de l'année"
BILAN_ROWS = {
    "proposes": "Logements proposés",
    "attribues": "Logements attribués",
    "report_n_1": "dont proposés l'année précédente (report N-1)",
    "repris": "Logements repris par le bailleur après carence",
    "realise": "Réalisé (attribués + repris imputés)",
}


@pytest.fixture
def year_dir(campagne_recette) -> Path:
    p, _ = campagne_recette
    trames = p.trames / "2024"
    assert (trames / "manifest.json").is_file(), (
        "la campagne de recette n'a produit aucune trame (marts non publiés ou bailleur bloqué)"
    )
    return trames


@pytest.fixture(scope="module")
def attendu() -> pl.DataFrame:
    return pl.read_csv(ACCEPTANCE / "attendu.csv", infer_schema=False)


def _manifest(year_dir: Path) -> dict[tuple[str, str, str], str]:
    files = json.loads((year_dir / "manifest.json").read_text(encoding="utf-8"))["files"]
    return {(e["kind"], e["bailleur_siren"], e["recipient_code"]): e["file"] for e in files}


def _half_up(value: str) -> int:
    return math.floor(float(value) + 0.5)


def _label(dimension: str, valeur: str) -> str:
    """attendu.csv's value → the label on the trame (codes and labels both accepted)."""
    if dimension == "commune":
        return valeur
    for code, label in categories.dimension_categories(dimension):
        if valeur in (code, label):
            return label
    return valeur


def reservataire_mismatches(year_dir: Path, attendu: pl.DataFrame) -> list[str]:
    files = _manifest(year_dir)
    rows = attendu.filter(
        pl.col("reservataire").is_not_null()
        & (pl.col("reservataire") != "BAILLEUR")
        & (pl.col("bailleur") != "*")
    )
    issues = dict(categories.issues())
    titles = dict(categories.dimensions())
    mismatches = []
    by_recipient = rows.partition_by("bailleur", "reservataire", as_dict=True)
    for (bailleur, code), expected in sorted(by_recipient.items()):
        file = files.get(("RESERVATAIRE", bailleur, code))
        if file is None:
            mismatches.append(f"{bailleur}/{code} : pas de trame réservataire")
            continue
        tables = read_tables(year_dir / file)
        bilan = by_first_column(tables["Bilan"][BILAN])
        tours = by_first_column(
            tables["Bilan"]["Tours de commercialisation par issue (échecs par motif)"]
        )
        perimetres = {
            r["Code"]: r
            for r in tables["Bilan"]["Vos conventions de réservation et vos droits sur le flux"]
        }
        shown_cells: dict[tuple[str, str], dict] = {}
        for dimension, title in titles.items():
            for row in tables["Ventilations"][f"Ventilation : {title}"][:-1]:
                shown_cells[(dimension, row.get("Code INSEE") or next(iter(row.values())))] = row
        checked_cells = set()
        values = {}
        for e in expected.iter_rows(named=True):
            metric, value = e["metric"], e["value"]
            where = f"{bailleur}/{code} {metric} {e['dimension'] or ''} {e['valeur'] or ''} {e['issue'] or ''}".strip()
            if e["dimension"]:
                dimension = DIMENSIONS.get(e["dimension"], e["dimension"])
                key = (dimension, _label(dimension, e["valeur"]))
                checked_cells.add((key, metric))
                got = shown_cells.get(key, {}).get(
                    "Logements proposés" if metric == "proposes" else "Logements attribués"
                )
            elif e["issue"]:
                got = tours.get(issues[e["issue"]], {}).get("Nombre de tours")
            elif metric == "flux_net_perimetre":
                got = perimetres.get(e["perimetre_code"], {}).get("Flux net du périmètre")
            elif metric in BILAN_ROWS:
                got = bilan[BILAN_ROWS[metric]]["Nombre"]
                values[metric] = int(value)
            elif metric == "droit":
                got, value = bilan["Droit (arrondi)"]["Nombre"], _half_up(value)
                values["droit"] = value
            elif metric == "ecart":
                continue  # checked below against the rounded droit
            else:
                mismatches.append(f"{where} : indicateur non vérifié")
                continue
            if got != int(value):
                mismatches.append(f"{where} : attendu {value}, trame {got}")
        if "droit" in values and "realise" in values:
            got = bilan["Écart réalisé − droit"]["Nombre"]
            if got != values["realise"] - values["droit"]:
                mismatches.append(f"{bailleur}/{code} écart : trame {got}")
        # the cells attendu.csv does not list are zero
        for key, row in shown_cells.items():
            for metric, column in (
                ("proposes", "Logements proposés"),
                ("attribues", "Logements attribués"),
            ):
                if (key, metric) not in checked_cells and row[column] != 0:
                    mismatches.append(
                        f"{bailleur}/{code} {key} {metric} : attendu 0, trame {row[column]}"
                    )
    return mismatches


def territory_mismatches(year_dir: Path, attendu: pl.DataFrame) -> list[str]:
    files = _manifest(year_dir)
    mismatches = []
    rows = attendu.filter(pl.col("territoire").is_not_null())
    for e in rows.iter_rows(named=True):
        code = e["territoire"]
        kind = "ETAT" if len(code) == 2 else "EPCI_EPT"
        file = files.get((kind, e["bailleur"], code))
        if file is None:
            continue  # not a recipient (an EPCI that is not "LEC"); its figures stay in the marts
        figures = by_first_column(
            read_tables(year_dir / file)["Bilan consolidé"][
                "Bilan consolidé sur l'ensemble des réservataires"
            ]
        )
        label = {"proposes": "Logements proposés", "attribues": "Logements attribués"}[e["metric"]]
        got = figures[f"{label} (tous destinataires, hors flux exclu)"]["Nombre"]
        if got != int(e["value"]):
            mismatches.append(
                f"{e['bailleur']} territoire {code} {e['metric']} : attendu {e['value']}, trame {got}"
            )
    return mismatches


def etat_mismatches(year_dir: Path, attendu: pl.DataFrame) -> list[str]:
    """Flux, soustraits by catégorie, rehousing attributions and prévisionnel on the État trames."""
    files = _manifest(year_dir)
    labels = dict(categories.categories_operation())
    mismatches = []
    relogements: dict[tuple[str, str], int] = defaultdict(int)
    for e in attendu.filter(
        pl.col("departement").is_not_null() | (pl.col("metric") == "attributions_relogement")
    ).iter_rows(named=True):
        bailleur, dep, metric = e["bailleur"], e["departement"], e["metric"]
        if metric == "attributions_relogement":
            continue
        tables = read_tables(year_dir / files[("ETAT", bailleur, dep)])
        if metric == "prevus_n_plus_1":
            forecast = by_first_column(
                tables["Prévisionnel 2025"][
                    f"{departement_label(dep)} : logements soustraits du flux, prévus en 2025 et réalisés en 2024"
                ]
            )
            got = forecast[labels[e["categorie_operation"]]]["Prévus en 2025"]
        elif e["categorie_operation"]:
            soustraits = {
                r["Catégorie d'opération"]: r
                for r in tables["Soustraits du flux"][
                    "Logements soustraits du flux et attributions au titre des relogements"
                ]
            }
            got = soustraits[labels[e["categorie_operation"]]]["Logements soustraits du flux"]
        else:
            flux = by_first_column(tables["Bilan consolidé"]["Flux de l'année dans le département"])
            got = flux[
                {
                    "flux_brut": "Flux brut",
                    "soustraits": "Logements soustraits du flux",
                    "flux_net": "Flux net",
                }[metric]
            ]["Nombre"]
        if got != int(e["value"]):
            mismatches.append(
                f"{bailleur} {dep} {metric} {e['categorie_operation'] or ''} : attendu {e['value']}, trame {got}"
            )
    # rehousing attributions are per bailleur in attendu.csv: the sum over its État trames
    for (kind, bailleur, _), file in files.items():
        if kind == "ETAT":
            table = read_tables(year_dir / file)["Soustraits du flux"][
                "Logements soustraits du flux et attributions au titre des relogements"
            ]
            for row in table[:-1]:
                relogements[(bailleur, row["Catégorie d'opération"])] += row[
                    "Attributions au titre des relogements"
                ]
    expected = attendu.filter(pl.col("metric") == "attributions_relogement")
    for e in expected.iter_rows(named=True):
        got = relogements[(e["bailleur"], labels[e["categorie_operation"]])]
        if got != int(e["value"]):
            mismatches.append(
                f"{e['bailleur']} relogements {e['categorie_operation']} : attendu {e['value']}, trames {got}"
            )
    return mismatches


def regional_mismatches(year_dir: Path, attendu: pl.DataFrame) -> list[str]:
    table = read_tables(year_dir / "regional" / "synthese_regionale.xlsx")["Réservataires"][
        "Bilan par réservataire, tous bailleurs"
    ]
    by_siren = {r["SIREN"]: r for r in table}
    mismatches = []
    for e in attendu.filter(pl.col("bailleur") == "*").iter_rows(named=True):
        column = {"proposes": "Logements proposés", "attribues": "Logements attribués"}[e["metric"]]
        got = by_siren.get(e["siren"], {}).get(column)
        if got != int(e["value"]):
            mismatches.append(
                f"régional {e['siren']} {e['metric']} : attendu {e['value']}, trame {got}"
            )
    return mismatches


def test_each_reservataire_trame_equals_attendu(year_dir, attendu):
    assert reservataire_mismatches(year_dir, attendu) == []


def test_epci_ept_and_etat_consolidations_equal_attendu(year_dir, attendu):
    assert territory_mismatches(year_dir, attendu) == []


def test_etat_trames_carry_flux_soustraits_and_previsionnel(year_dir, attendu):
    assert etat_mismatches(year_dir, attendu) == []


def test_regional_synthesis_equals_attendu(year_dir, attendu):
    assert regional_mismatches(year_dir, attendu) == []
