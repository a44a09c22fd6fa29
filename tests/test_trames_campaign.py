"""Trames of a synthetic, contract-shaped campaign: read back cell by cell against the marts."""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
import shutil
from pathlib import Path

import openpyxl
import polars as pl
import pytest
from trames_readback import all_text, by_first_column, read_tables
from trames_synthetic import INJECTION, synthetic_marts, write_marts

from dagster_project.documents.layout import clipped
from dagster_project.trames import categories
from dagster_project.trames.campaign import (
    WORKBOOKS_PER_WORKER_START,
    auto_workers,
    default_workers,
    generate_trames,
    plan,
)
from dagster_project.trames.inputs import digested_files
from dagster_project.trames.loader import load_campaign
from dagster_project.trames.manifest import read_manifest
from dagster_project.trames.options import Options
from dagster_project.trames.common import departement_label

NOW = dt.datetime(2025, 2, 1, 9, 30)


@pytest.fixture(scope="module")
def marts() -> dict[str, pl.DataFrame]:
    return synthetic_marts(3, seed=11)


@pytest.fixture(scope="module")
def campaign(marts, tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("campagne")
    write_marts(marts, root / "marts")
    generate_trames(root / "marts", root / "trames", "run-1", workers=1, now=NOW)
    return root / "marts", root / "trames" / "2024"


def _manifest(year_dir: Path) -> list[dict]:
    return json.loads((year_dir / "manifest.json").read_text(encoding="utf-8"))["files"]


def _half_up(x: float) -> int:
    return math.floor(x + 0.5)


def test_every_recipient_gets_its_trame(marts, campaign):
    _, year_dir = campaign
    files = {(e["kind"], e["bailleur_siren"], e["recipient_code"]) for e in _manifest(year_dir)}
    for row in marts["mart_recipients"].iter_rows(named=True):
        assert (row["kind"], row["bailleur_siren"], row["recipient_code"]) in files
    kinds = {e["kind"] for e in _manifest(year_dir)}
    assert kinds == {
        "RESERVATAIRE",
        "EPCI_EPT",
        "ETAT",
        "PREVISIONNEL",
        "REGIONAL",
        "REGIONAL_ETAT",
        "REGIONAL_EPCI_EPT",
    }


def test_reservataire_trame_matches_the_marts(marts, campaign):
    _, year_dir = campaign
    bilans = marts["mart_bilan_reservataire"]
    for entry in (e for e in _manifest(year_dir) if e["kind"] == "RESERVATAIRE"):
        key = (pl.col("bailleur_siren") == entry["bailleur_siren"]) & (
            pl.col("reservataire_code") == entry["recipient_code"]
        )
        bilan = bilans.filter(key).row(0, named=True)
        tables = read_tables(year_dir / entry["file"])
        figures = by_first_column(tables["Bilan"]["Bilan de l'année"])
        assert figures["Logements proposés"]["Nombre"] == bilan["proposes"]
        assert figures["Logements attribués"]["Nombre"] == bilan["attribues"]
        assert (
            figures["dont proposés l'année précédente (report N-1)"]["Nombre"]
            == bilan["report_n_1"]
        )
        assert (
            figures["Logements repris par le bailleur après carence"]["Nombre"] == bilan["repris"]
        )
        assert figures["Réalisé (attribués + repris imputés)"]["Nombre"] == bilan["realise"]
        assert figures["Réalisé (attribués + repris imputés)"]["Part du flux net"] == pytest.approx(
            bilan["part_du_flux"]
        )
        assert figures["Droit (arrondi)"]["Nombre"] == _half_up(bilan["droit"])
        assert figures["Écart réalisé − droit"]["Nombre"] == bilan["realise"] - _half_up(
            bilan["droit"]
        )
        assert figures["Logements proposés"]["Part du flux net"] == pytest.approx(
            bilan["proposes"] / bilan["flux_net_perimetre"]
        )
        tours = by_first_column(
            tables["Bilan"]["Tours de commercialisation par issue (échecs par motif)"]
        )
        assert (
            tours["Échec – carence du réservataire"]["Nombre de tours"]
            == bilan["tours_echec_carence"]
        )
        assert tours["Total"]["Nombre de tours"] == bilan["tours"]
        perimetres = tables["Bilan"]["Vos conventions de réservation et vos droits sur le flux"]
        expected = marts["mart_flux_perimetre"].filter(key).sort("perimetre_type", "perimetre_code")
        assert [(r["Code"], r["Flux net du périmètre"]) for r in perimetres] == list(
            zip(expected["perimetre_code"], expected["flux_net_perimetre"], strict=True)
        )
        cells = marts["mart_bilan_ventilation"].filter(key)
        for dimension, title in categories.dimensions():
            table = tables["Ventilations"][f"Ventilation : {title}"]
            dim_cells = cells.filter(pl.col("dimension") == dimension)
            total = table[-1]
            assert total["Logements proposés"] == bilan["proposes"] == dim_cells["proposes"].sum()
            assert total["Logements attribués"] == bilan["attribues"]
            shown = {(r.get("Code INSEE") or next(iter(r.values()))): r for r in table[:-1]}
            for cell in dim_cells.iter_rows(named=True):
                label = (
                    cell["valeur"]
                    if dimension == "commune"
                    else (
                        categories.non_renseigne_label(dimension)
                        if cell["valeur"] == "NON_RENSEIGNE"
                        else cell["libelle"]
                    )
                )
                assert shown[label]["Logements proposés"] == cell["proposes"]
                assert shown[label]["Logements attribués"] == cell["attribues"]
            # every reference category is shown, zeros included
            for _, label in categories.dimension_categories(dimension):
                assert label in shown


def test_breakdowns_show_zero_categories_and_non_renseigne_last(marts, campaign):
    _, year_dir = campaign
    cells = marts["mart_bilan_ventilation"]
    unknown = cells.filter(pl.col("valeur") == "NON_RENSEIGNE").row(0, named=True)
    entry = next(
        e
        for e in _manifest(year_dir)
        if e["kind"] == "RESERVATAIRE"
        and e["bailleur_siren"] == unknown["bailleur_siren"]
        and e["recipient_code"] == unknown["reservataire_code"]
    )
    table = read_tables(year_dir / entry["file"])["Ventilations"]["Ventilation : Typologie"]
    assert [r["Typologie"] for r in table] == [
        "T1",
        "T2",
        "T3",
        "T4",
        "T5 et +",
        "non renseigné",
        "Total",
    ]
    assert table[-2]["Logements proposés"] == unknown["proposes"]


def test_territory_trames_match_the_marts(marts, campaign):
    _, year_dir = campaign
    for entry in (e for e in _manifest(year_dir) if e["kind"] in ("EPCI_EPT", "ETAT")):
        code = entry["territoire"] or entry["departement"]
        key = (pl.col("bailleur_siren") == entry["bailleur_siren"]) & (
            pl.col("territoire_code") == code
        )
        row = marts["mart_bilan_territoire"].filter(key).row(0, named=True)
        tables = read_tables(year_dir / entry["file"])["Bilan consolidé"]
        figures = by_first_column(tables["Bilan consolidé sur l'ensemble des réservataires"])
        assert (
            figures["Logements proposés (tous destinataires, hors flux exclu)"]["Nombre"]
            == row["proposes"]
        )
        assert (
            figures["Logements attribués (tous destinataires, hors flux exclu)"]["Nombre"]
            == row["attribues"]
        )
        assert figures["Attributions hors QPV"]["Part des attributions"] == pytest.approx(
            row["part_hors_qpv"]
        )
        detail = marts["mart_bilan_territoire_detail"].filter(
            key & (pl.col("reservataire_code") != "HORS_FLUX")
        )
        shown = {r["Code"]: r for r in tables["Détail par réservataire"]}
        shown["Total des lignes"] = tables["Détail par réservataire"][-1]
        for d in detail.iter_rows(named=True):
            assert shown[d["reservataire_code"]]["Logements attribués"] == d["attribues"]
        assert shown["Total des lignes"]["Logements proposés"] == detail["proposes"].sum()
        # the page reconciles the detail's total with the consolidated figures, line by line
        lines, minus, distinct, hors_flux = tables["Rapprochement du détail et du bilan consolidé"]
        for column, field in (("Logements proposés", "proposes"), ("Logements attribués", "attribues")):
            assert lines[column] == shown["Total des lignes"][column]
            assert lines[column] + minus[column] == distinct[column] == row[field]
            assert hors_flux[column] == row[f"hors_flux_{field}"]


def test_etat_trame_shows_the_state_part_and_the_caps(marts, campaign):
    _, year_dir = campaign
    entry = next(e for e in _manifest(year_dir) if e["kind"] == "ETAT")
    dep, siren = entry["departement"], entry["bailleur_siren"]
    tables = read_tables(year_dir / entry["file"])
    flux = (
        marts["mart_flux"]
        .filter((pl.col("bailleur_siren") == siren) & (pl.col("departement") == dep))
        .row(0, named=True)
    )
    shown = by_first_column(tables["Bilan consolidé"]["Flux de l'année dans le département"])
    assert (shown["Flux brut"]["Nombre"], shown["Flux net"]["Nombre"]) == (
        flux["flux_brut"],
        flux["flux_net"],
    )
    state = {r["Code"]: r for r in tables["Part de l'État"]["Bilan des contingents de l'État"]}
    assert set(state) == {f"PREF{dep}", f"FONC{dep}"}
    pref = (
        marts["mart_bilan_reservataire"]
        .filter((pl.col("bailleur_siren") == siren) & (pl.col("reservataire_code") == f"PREF{dep}"))
        .row(0, named=True)
    )
    assert state[f"PREF{dep}"]["Réalisé"] == pref["realise"]
    caps = by_first_column(
        tables["Part de l'État"][
            "Taux conventionnels de l'État et plafonds réglementaires (R441-5-2 du CCH)"
        ]
    )
    assert caps["Ensemble de l'État"]["Taux conventionnel"] == pytest.approx(0.30)
    assert caps["dont agents publics"]["Respect du plafond"] == "oui"


def _previsionnel_tables(tables: dict, dep: str) -> tuple[dict, dict]:
    label = departement_label(dep)
    forecast = tables[f"{label} : logements soustraits du flux, prévus en 2025 et réalisés en 2024"]
    droits = tables[f"{label} : flux et droits indicatifs 2025"]
    return by_first_column(forecast), {r["Code"]: r for r in droits}


def test_previsionnel_matches_the_marts_and_keeps_comments_as_text(marts, campaign):
    _, year_dir = campaign
    labels = dict(categories.categories_operation())
    for entry in (e for e in _manifest(year_dir) if e["kind"] == "PREVISIONNEL"):
        tables = read_tables(year_dir / entry["file"])["Prévisionnel"]
        for dep in entry["departement"].split(","):
            key = (pl.col("bailleur_siren") == entry["bailleur_siren"]) & (
                pl.col("departement") == dep
            )
            forecast, droits = _previsionnel_tables(tables, dep)
            for row in marts["mart_previsionnel"].filter(key).iter_rows(named=True):
                assert (
                    forecast[labels[row["categorie_operation"]]]["Prévus en 2025"]
                    == row["nb_logements_prevus"]
                )
            assert forecast[labels["VENTE_HLM"]]["Commentaire du bailleur"] == INJECTION
            assert forecast[labels["HABITAT_INDIGNE"]]["Prévus en 2025"] == 0
            # a réservataire's prévisionnel shows its own indicative droits only
            assert set(droits) == {entry["recipient_code"]}
            row = (
                marts["mart_previsionnel_droits"]
                .filter(key & (pl.col("reservataire_code") == entry["recipient_code"]))
                .row(0, named=True)
            )
            assert droits[entry["recipient_code"]]["Droit indicatif 2025 (arrondi)"] == _half_up(
                row["droit_indicatif_n_plus_1"]
            )


def test_etat_trame_carries_the_departement_previsionnel(marts, campaign):
    _, year_dir = campaign
    entry = next(e for e in _manifest(year_dir) if e["kind"] == "ETAT")
    dep = entry["departement"]
    _, droits = _previsionnel_tables(
        read_tables(year_dir / entry["file"])["Prévisionnel 2025"], dep
    )
    key = (pl.col("bailleur_siren") == entry["bailleur_siren"]) & (pl.col("departement") == dep)
    assert set(droits) == set(marts["mart_previsionnel_droits"].filter(key)["reservataire_code"])


def test_regional_synthesis_matches_the_regional_marts(marts, campaign):
    _, year_dir = campaign
    tables = read_tables(year_dir / "regional" / "synthese_regionale.xlsx")
    shown = by_first_column(tables["Réservataires"]["Bilan par réservataire, tous bailleurs"])
    for row in marts["mart_regional_reservataire"].iter_rows(named=True):
        assert shown[row["reservataire_id"]]["Logements attribués"] == row["attribues"]
        assert shown[row["reservataire_id"]]["Bailleurs"] == row["nb_bailleurs"]


def test_a_reservataire_never_sees_another_s_figures(marts, campaign):
    _, year_dir = campaign
    bilans = marts["mart_bilan_reservataire"]
    for entry in (e for e in _manifest(year_dir) if e["kind"] == "RESERVATAIRE"):
        text = all_text(year_dir / entry["file"])
        others = bilans.filter(
            (pl.col("bailleur_siren") != entry["bailleur_siren"])
            | (pl.col("reservataire_code") != entry["recipient_code"])
        )
        own_name = entry["recipient_nom"]
        for name in set(others["reservataire_nom"]) - {own_name, INJECTION}:
            assert name not in text, f"{entry['file']} mentionne {name}"
        for code in set(others["reservataire_code"]) - {entry["recipient_code"]}:
            assert f"\n{code}\n" not in f"\n{text}\n"


def test_an_epci_trame_holds_only_its_communes(marts, campaign):
    _, year_dir = campaign
    for entry in (
        e
        for e in _manifest(year_dir)
        if e["kind"] in ("EPCI_EPT", "REGIONAL_EPCI_EPT") and e["kind"] == "EPCI_EPT"
    ):
        communes = read_tables(year_dir / entry["file"])["Ventilations"]["Ventilation : Commune"][
            :-1
        ]
        assert communes
        assert {r["Code INSEE"] for r in communes} <= categories.territory_communes(
            entry["territoire"]
        )


def test_manifest_csv_and_json_agree_with_the_files(campaign):
    import hashlib

    _, year_dir = campaign
    entries = _manifest(year_dir)
    with (year_dir / "manifest.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["file"] for r in rows] == [e["file"] for e in entries]
    for e in entries:
        assert hashlib.sha256((year_dir / e["file"]).read_bytes()).hexdigest() == e["sha256"]
        assert e["nb_figures"] > 0 and e["run_id"] == "run-1"
    assert not list(year_dir.rglob("*.tmp"))


def test_rerun_rewrites_only_the_bailleur_that_changed(marts, tmp_path):
    write_marts(marts, tmp_path / "marts")
    first = generate_trames(tmp_path / "marts", tmp_path / "trames", "run-1", workers=1, now=NOW)
    again = generate_trames(tmp_path / "marts", tmp_path / "trames", "run-2", workers=1)
    assert again.written == [] and again.unchanged == first.files

    changed = marts["mart_bilan_reservataire"]["bailleur_siren"][0]
    bilans = marts["mart_bilan_reservataire"].with_columns(
        pl.when(pl.col("bailleur_siren") == changed)
        .then(pl.col("proposes") + 1)
        .otherwise(pl.col("proposes"))
        .alias("proposes")
    )
    bilans.write_parquet(tmp_path / "marts" / "mart_bilan_reservataire.parquet")
    third = generate_trames(tmp_path / "marts", tmp_path / "trames", "run-3", workers=1)
    assert f"2024/{changed}/reservataires/ALS.xlsx" in third.written
    assert all(p.startswith(f"2024/{changed}/") for p in third.written)
    entries = {e["file"]: e for e in _manifest(tmp_path / "trames" / "2024")}
    assert {e["run_id"] for e in entries.values()} == {"run-1", "run-3"}

    (tmp_path / "trames" / "2024" / third.written[0].split("/", 1)[1]).write_bytes(b"abime")
    fourth = generate_trames(tmp_path / "marts", tmp_path / "trames", "run-4", workers=1)
    assert fourth.written == [third.written[0]]


def test_blocked_bailleur_gets_no_trame_and_its_old_files_go(marts, tmp_path):
    write_marts(marts, tmp_path / "marts")
    generate_trames(tmp_path / "marts", tmp_path / "trames", "run-1", workers=1, now=NOW)
    blocked = marts["mart_flux"]["bailleur_siren"][0]
    marts["statut_bailleurs"].with_columns(
        pl.when(pl.col("bailleur_siren") == blocked).then(pl.lit(v)).otherwise(pl.col(c)).alias(c)
        for c, v in (("statut", "BLOQUE"), ("statut_libelle", "bloqué"), ("publie", False),
                     ("bloque", True), ("motif", "2 erreurs bloquantes"))
    ).write_parquet(tmp_path / "marts" / "statut_bailleurs.parquet")
    result = generate_trames(tmp_path / "marts", tmp_path / "trames", "run-2", workers=1)
    assert result.excluded == {f"{blocked}_2024": "bloqué : 2 erreurs bloquantes"}
    assert result.removed > 0
    assert not (tmp_path / "trames" / "2024" / blocked).exists() or not any(
        (tmp_path / "trames" / "2024" / blocked).rglob("*.xlsx")
    )
    assert all(e["bailleur_siren"] != blocked for e in _manifest(tmp_path / "trames" / "2024"))
    manifest = json.loads((tmp_path / "trames" / "2024" / "manifest.json").read_text("utf-8"))
    assert manifest["bailleurs_non_publies"] == [
        {"bailleur_siren": blocked, "motif": "bloqué : 2 erreurs bloquantes"}]


def test_process_pool_gives_the_same_workbooks(marts, campaign, tmp_path):
    _, year_dir = campaign
    shutil.copytree(campaign[0], tmp_path / "marts")
    generate_trames(tmp_path / "marts", tmp_path / "trames", "run-1", workers=2, now=NOW)
    assert _manifest(tmp_path / "trames" / "2024") == _manifest(year_dir)


def test_unchanged_bailleurs_are_not_even_rebuilt(marts, tmp_path):
    write_marts(marts, tmp_path / "marts")
    generate_trames(tmp_path / "marts", tmp_path / "trames", "run-1", workers=1, now=NOW)
    year_dir = tmp_path / "trames" / "2024"
    # Rows come back from DuckDB in any order: that alone changes nothing.
    for name, frame in marts.items():
        frame.reverse().write_parquet(tmp_path / "marts" / f"{name}.parquet")
    previous = read_manifest(year_dir)
    year = plan(load_campaign(tmp_path / "marts"), 2024, Options(), previous, year_dir)
    assert {e.file for e in year.kept} == {f for f, e in previous.items() if e.bailleur_siren}
    assert all(r.relpath.startswith("regional/") for r in year.reports)

    changed = marts["mart_flux"]["bailleur_siren"][0]
    flux = marts["mart_flux"].with_columns(
        pl.when(pl.col("bailleur_siren") == changed).then(pl.col("flux_brut") + 1)
        .otherwise(pl.col("flux_brut")).alias("flux_brut")
    )
    flux.write_parquet(tmp_path / "marts" / "mart_flux.parquet")
    year = plan(load_campaign(tmp_path / "marts"), 2024, Options(), previous, year_dir)
    rebuilt = {r.relpath.split("/")[0] for r in year.reports}
    assert rebuilt == {changed, "regional"}
    assert all(e.bailleur_siren != changed for e in year.kept)


def test_the_input_digest_covers_the_code_and_the_labels_of_the_seeds():
    names = {path.name for path in digested_files()}
    assert {"reservataire.py", "render.py", "categories.py"} <= names
    assert {"ref_categories_reservataire.csv", "ref_typologies.csv", "ref_communes.csv"} <= names


def test_worker_processes_only_for_batches_worth_starting_them():
    assert auto_workers(67) == 1  # one bailleur's re-drop: written in-process
    assert auto_workers(2 * WORKBOOKS_PER_WORKER_START) == min(2, default_workers())
    assert auto_workers(100_000) == default_workers()


def test_no_text_is_cut_in_any_kind_of_trame(campaign):
    """Every sheet of the first trame of every kind: no label, header, figure or definition is
    wider than its column or taller than its row (``documents.layout.clipped``)."""
    _, year_dir = campaign
    first: dict[str, str] = {}
    for entry in _manifest(year_dir):
        first.setdefault(entry["kind"], entry["file"])
    assert set(first) >= {"RESERVATAIRE", "EPCI_EPT", "ETAT", "PREVISIONNEL", "REGIONAL"}
    problems = [
        f"{file} {problem}"
        for file in first.values()
        for ws in openpyxl.load_workbook(year_dir / file).worksheets
        for problem in clipped(ws)
    ]
    assert problems == []
