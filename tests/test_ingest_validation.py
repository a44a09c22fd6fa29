"""Accepted variants and every rejection rule, on small files written by the tests."""

from __future__ import annotations

import datetime as dt
import os

import openpyxl
import polars as pl
import pytest

from ingest_samples import ANNEE, SIREN, anomalies, ingest, rules, sheets, write_csv, write_csv_set, write_workbook

from dagster_project.ingest.pipeline import discover_partitions, ingest_partitions


def test_acceptance_campaign_is_accepted_without_any_anomaly(acceptance_landing):
    summary = ingest(acceptance_landing)
    assert len(summary) == 9
    assert {f.statut for f in summary.values()} <= {"ACCEPTE", "ACCEPTE_AVEC_AVERTISSEMENTS"}
    # the only anomaly: the campaign's Action Logement SIREN has a wrong Luhn key (flagged, kept)
    found = pl.read_parquet(acceptance_landing.raw_store / "anomalies" / "*.parquet")
    assert set(found["regle"]) == {"SIREN_CLE"} and set(found["valeur"]) == {"502881307"}
    logements = pl.read_parquet(acceptance_landing.raw_store / "logements" / "*.parquet")
    assert logements.group_by("bailleur_siren").len().sort("bailleur_siren")["len"].to_list() == [900, 700, 500]


def test_provenance_on_every_row(workspace):
    write_csv_set(workspace.landing / SIREN)
    summary = ingest(workspace, run_id="run-42")
    tours = pl.read_parquet(workspace.raw_store / "tours" / "*.parquet")
    f = summary[f"{SIREN}/{SIREN}_{ANNEE}_tours.csv"]
    assert tours["_source_sha256"].unique().to_list() == [f.sha256]
    assert tours["_source_file"].unique().to_list() == [f.chemin]
    assert tours["_row_number"].to_list() == [2, 3, 4, 5]
    assert set(tours["_run_id"]) == {"run-42"} and tours["_loaded_at"].null_count() == 0
    assert tours.schema["date_orientation"] == pl.Date and tours.schema["numero_tour"] == pl.Int32
    assert tours.filter(pl.col("issue") == "EN_COURS")["origine"].to_list() == ["RELOCATION"]


def test_workbook_with_real_types_french_headers_and_tolerated_forms(workspace):
    data = sheets()
    data["logements"] = [
        ["Identifiant logement", "Code INSEE", "En QPV", "Typologie", "Type de financement",
         "Année construction", "Gardien"],
        ["L1", 93066, 1, "T3", "PLA-I", 1990, "M. Martin"],
        [None] * 7,  # empty rows are ignored
        ["L2", "93066", 2, "studio", 13, 2005, None],
        ["L3", 93008, "non", "T5 et +", "plus", 1975, None],
    ]
    data["tours"] = [
        ["Id logement", "Numéro de tour", "Date orientation", "Destinataire", "Catégorie", "Issue", "Date d'issue"],
        ["L1", 1, dt.date(2024, 2, 1), "pref93", None, "Échec carence", "01/03/2024"],
        ["L1", 2, 45356, "BAILLEUR", None, "ATTRIBUE", dt.datetime(2024, 4, 1)],
        ["L2", 1, "2024-05-01", "HORS FLUX", "mutation interne", "ATTRIBUE", "20/05/2024"],
        ["L3", 1, "2024-06-01", "ALS", None, "EN_COURS", None],
    ]
    data["conventions"][1][6] = "25,0 %"
    write_workbook(workspace.landing / f"{SIREN}_{ANNEE}.xlsx", data)
    (f,) = ingest(workspace).values()
    assert f.statut == "ACCEPTE_AVEC_AVERTISSEMENTS"
    found = anomalies(workspace, f.sha256)
    assert found.select("regle", "colonne", "ligne").rows() == [("COLONNE_INCONNUE", "Gardien", 1)]
    logements = pl.read_parquet(workspace.raw_store / "logements" / f"{f.version}.parquet")
    assert logements["_row_number"].to_list() == [2, 4, 5]
    assert logements["typologie"].to_list() == ["T3", "STUDIO", "T5 ET +"]
    assert logements["qpv"].to_list() == [True, False, False]
    assert logements["_extra"].to_list()[0] == '{"Gardien":"M. Martin"}'
    tours = pl.read_parquet(workspace.raw_store / "tours" / f"{f.version}.parquet")
    assert tours["destinataire"].to_list() == ["PREF93", "BAILLEUR", "HORS_FLUX", "ALS"]
    assert tours["date_orientation"][1] == dt.date(2024, 3, 5)
    assert tours["issue"][0] == "ECHEC_CARENCE"
    conventions = pl.read_parquet(workspace.raw_store / "conventions" / f"{f.version}.parquet")
    assert conventions["taux_flux"].to_list() == [25.0, 30.0]


@pytest.mark.parametrize("sep,encoding", [(";", "cp1252"), (",", "utf-8-sig"), (";", "utf-8")])
def test_csv_separators_and_encodings(workspace, sep, encoding):
    data = sheets()
    data["conventions"][1][1] = "Préfet de la Seine-Saint-Denis"
    write_csv_set(workspace.landing, data, sep=sep, encoding=encoding)
    summary = ingest(workspace)
    assert {f.statut for f in summary.values()} == {"ACCEPTE"}
    conventions = pl.read_parquet(workspace.raw_store / "conventions" / "*.parquet")
    assert conventions["reservataire_nom"][0] == "Préfet de la Seine-Saint-Denis"


def _ingest_with(workspace, **changes):
    write_csv_set(workspace.landing, sheets(**changes))
    return ingest(workspace)


def _file(summary, sheet):
    return summary[f"{SIREN}_{ANNEE}_{sheet}.csv"]


TOURS_HEADER = sheets()["tours"][0]


@pytest.mark.parametrize(
    "rows,expected",
    [
        ([["L1", "1", "2024-02-01", "BAILLEUR", "", "ATTRIBUE", "2024-03-01"],
          ["L1", "1", "2024-02-01", "BAILLEUR", "", "ATTRIBUE", "2024-03-01"]], "DOUBLON"),
        ([["L1", "1", "2024-02-01", "BAILLEUR", "", "ECHEC_AUTRE", "2024-03-01"],
          ["L1", "3", "2024-03-02", "BAILLEUR", "", "ATTRIBUE", "2024-04-01"]], "TOUR_RANGS_DISCONTINUS"),
        ([["L1", "1", "2024-02-01", "BAILLEUR", "", "ATTRIBUE", "2024-03-01"],
          ["L1", "2", "2024-03-02", "ALS", "", "ATTRIBUE", "2024-04-01"]], "TOUR_DEUX_ATTRIBUTIONS"),
        ([["L1", "1", "2024-02-01", "BAILLEUR", "", "ATTRIBUE", "2024-03-01"],
          ["L1", "2", "2024-03-02", "ALS", "", "ECHEC_CARENCE", "2024-04-01"]], "TOUR_APRES_ATTRIBUTION"),
        ([["L1", "1", "2024-02-01", "BAILLEUR", "", "EN_COURS", ""],
          ["L1", "2", "2024-03-02", "ALS", "", "ATTRIBUE", "2024-04-01"]], "TOUR_APRES_EN_COURS"),
        ([["L1", "1", "2024-02-01", "HORS_FLUX", "", "ATTRIBUE", "2024-03-01"]], "HORS_FLUX_SANS_CATEGORIE"),
        ([["L1", "1", "2024-04-01", "BAILLEUR", "", "ATTRIBUE", "2024-03-01"]], "ORIENTATION_APRES_ISSUE"),
        ([["L1", "1", "2024-02-01", "BAILLEUR", "", "ATTRIBUE", ""]], "DATE_ISSUE_MANQUANTE"),
        ([["L1", "1", "2024-02-01", "BAILLEUR", "", "GAGNE", "2024-03-01"]], "VALEUR_INTERDITE"),
        ([["L1", "un", "2024-02-01", "BAILLEUR", "", "ATTRIBUE", "2024-03-01"]], "FORMAT_INVALIDE"),
        ([["L1", "0", "2024-02-01", "BAILLEUR", "", "ATTRIBUE", "2024-03-01"]], "HORS_PLAGE"),
        ([["", "1", "2024-02-01", "BAILLEUR", "", "ATTRIBUE", "2024-03-01"]], "VALEUR_MANQUANTE"),
        ([["L9", "1", "2024-02-01", "BAILLEUR", "", "ATTRIBUE", "2024-03-01"]], "TOUR_LOGEMENT_INCONNU"),
        ([["L1", "1", "2024-02-01", "MAIRIE", "", "ATTRIBUE", "2024-03-01"]], "TOUR_DESTINATAIRE_INCONNU"),
        ([["L1", "1", "2023-02-01", "BAILLEUR", "", "ATTRIBUE", "2023-03-01"]], "ANNEE_CONTENU"),
    ],
)
def test_tours_errors_reject_the_file(workspace, rows, expected):
    summary = _ingest_with(workspace, tours=[TOURS_HEADER, *rows])
    tours = _file(summary, "tours")
    assert tours.statut == "REJETE"
    assert expected in rules(workspace, tours.sha256)
    assert not (workspace.raw_store / "tours" / f"{tours.version}.parquet").exists()
    assert _file(summary, "logements").statut == "ACCEPTE"


@pytest.mark.parametrize(
    "rows,expected",
    [
        ([["L1", "1", "2024-02-01", "BAILLEUR", "VENTE_HLM", "ATTRIBUE", "2024-03-01"]], "CATEGORIE_SANS_HORS_FLUX"),
        ([["L1", "1", "2024-02-01", "BAILLEUR", "", "ECHEC_AUTRE", "2024-03-01"],
          ["L1", "2", "2024-02-15", "ALS", "", "ATTRIBUE", "2024-04-01"],
          ["L2", "1", "2024-02-01", "BAILLEUR", "", "ATTRIBUE", "2024-03-01"]], "TOURS_CHEVAUCHEMENT"),
        ([["L1", "1", "2023-02-01", "BAILLEUR", "", "ATTRIBUE", "2023-03-01"],
          ["L2", "1", "2024-02-01", "BAILLEUR", "", "ATTRIBUE", "2024-03-01"]], "VACANCE_HORS_ANNEE"),
        ([["L1", "1", "2024-02-01", "HORS_FLUX", "DEMOLITION", "ATTRIBUE", "2024-03-01"]], "VALEUR_NON_REFERENCEE"),
    ],
)
def test_tours_warnings_let_the_file_through(workspace, rows, expected):
    tours = _file(_ingest_with(workspace, tours=[TOURS_HEADER, *rows]), "tours")
    assert tours.statut == "ACCEPTE_AVEC_AVERTISSEMENTS"
    assert rules(workspace, tours.sha256) == {expected}


LOGEMENTS = sheets()["logements"]


@pytest.mark.parametrize(
    "row,expected,statut",
    [
        (["L1", "93066", "peut-être", "3", "PLAI", "1990"], "FORMAT_INVALIDE", "REJETE"),
        (["L1", "93066", "oui", "3", "PLAI", "2031"], "HORS_PLAGE", "REJETE"),
        (["L1", "9306X", "oui", "3", "PLAI", "1990"], "FORMAT_INVALIDE", "REJETE"),
        (["L1", "93066", "oui", "", "PLAI", "1990"], "PIECES_MANQUANTES", "REJETE"),
        (["L1", "69123", "oui", "3", "PLAI", "1990"], "COMMUNE_HORS_IDF", "REJETE"),
        # Dommerville, part of Angerville (91016) since 1974: not "outside Île-de-France"
        (["L1", "28131", "oui", "3", "PLAI", "1990"], "COMMUNE_CODE_PERIME", "REJETE"),
        (["L1", "93066", "oui", "3", "PRÊT MYSTÈRE", "1990"], "VALEUR_NON_REFERENCEE", "ACCEPTE_AVEC_AVERTISSEMENTS"),
    ],
)
def test_logements_rules(workspace, row, expected, statut):
    logements = [LOGEMENTS[0], row, *LOGEMENTS[2:]]
    f = _file(_ingest_with(workspace, logements=logements), "logements")
    assert f.statut == statut and expected in rules(workspace, f.sha256)


def test_missing_and_duplicated_columns(workspace):
    logements = [["logement_id", "code_insee", "DEPCOM", "qpv", "financement"],
                 ["L1", "93066", "93066", "oui", "PLAI"]]
    f = _file(_ingest_with(workspace, logements=logements), "logements")
    found = anomalies(workspace, f.sha256)
    assert f.statut == "REJETE"
    assert set(found["regle"]) == {"COLONNE_EN_DOUBLE", "COLONNE_MANQUANTE", "COLONNE_PIECES_MANQUANTE"}
    assert found.filter(pl.col("regle") == "COLONNE_MANQUANTE")["valeur"].to_list() == ["annee_construction"]
    assert found["ligne"].to_list() == [1, 1, 1]


CONVENTIONS = sheets()["conventions"]


@pytest.mark.parametrize(
    "rows,expected,statut",
    [
        ([["ALS", "AL", "ACTION_LOGEMENT", "824541148", "DEPARTEMENT", "93", "101"]], "HORS_PLAGE", "REJETE"),
        ([["ALS", "AL", "ACTION_LOGEMENT", "", "DEPARTEMENT", "93", "30"]], "VALEUR_MANQUANTE", "REJETE"),
        ([["ALS", "AL", "ACTION_LOGEMENT", "5028", "DEPARTEMENT", "93", "30"]], "FORMAT_INVALIDE", "REJETE"),
        ([["ALS", "AL", "ACTION_LOGEMENT", "824541148", "REGION", "11", "30"]], "VALEUR_INTERDITE", "REJETE"),
        ([["ALS", "AL", "ACTION_LOGEMENT", "824541148", "COMMUNE", "93", "30"]], "PERIMETRE_CODE_INVALIDE", "REJETE"),
        ([["ALS", "AL", "ACTION_LOGEMENT", "824541148", "DEPARTEMENT", "93", "60"],
          ["CD93", "CD", "DEPARTEMENT", "229300001", "DEPARTEMENT", "93", "30"]], "TAUX_SOMME", "REJETE"),
        ([["ALS", "AL", "ACTION_LOGEMENT", "824541148", "DEPARTEMENT", "93", "30"],
          ["ALS", "AL", "ACTION_LOGEMENT", "824541148", "DEPARTEMENT", "93", "30"]], "DOUBLON", "REJETE"),
        ([["FONC93", "Agents", "ETAT_FONCTIONNAIRES", "", "DEPARTEMENT", "93", "8"]], "TAUX_FONCTIONNAIRES",
         "ACCEPTE_AVEC_AVERTISSEMENTS"),
        ([["ALS", "AL", "ACTION_LOGEMENT", "824541148", "DEPARTEMENT", "13", "30"]], "PERIMETRE_INCONNU",
         "ACCEPTE_AVEC_AVERTISSEMENTS"),
        ([["ALS", "AL", "ACTION_LOGEMENT", "824541148", "DEPARTEMENT", "93", "0,3"]], "TAUX_FRACTION",
         "ACCEPTE_AVEC_AVERTISSEMENTS"),
        ([["ALS", "AL", "ACTION_LOGEMENT", "824541148", "DEPARTEMENT", "93", "30"],
          ["ALS", "Action Logement", "ACTION_LOGEMENT", "824541148", "DEPARTEMENT", "94", "30"]],
         "CONVENTION_INCOHERENTE", "ACCEPTE_AVEC_AVERTISSEMENTS"),
    ],
)
def test_conventions_rules(workspace, rows, expected, statut):
    conventions = [CONVENTIONS[0], CONVENTIONS[1], *rows]
    f = _file(_ingest_with(workspace, conventions=conventions), "conventions")
    assert f.statut == statut and expected in rules(workspace, f.sha256)


def test_state_share_above_30_percent_is_a_warning(workspace):
    conventions = [CONVENTIONS[0], ["PREF93", "Préfet", "ETAT_PRIORITAIRES", "", "DEPARTEMENT", "93", "35"],
                   CONVENTIONS[2]]
    f = _file(_ingest_with(workspace, conventions=conventions), "conventions")
    assert f.statut == "ACCEPTE_AVEC_AVERTISSEMENTS" and rules(workspace, f.sha256) == {"TAUX_ETAT"}


def test_previsionnel_rules(workspace):
    rows = [["departement", "categorie_operation", "nb_logements_prevus"],
            ["93", "MUTATION_INTERNE", "4"], ["93", "MUTATION_INTERNE", "-1"]]
    f = _file(_ingest_with(workspace, previsionnel=rows), "previsionnel")
    assert f.statut == "REJETE" and rules(workspace, f.sha256) == {"DOUBLON", "HORS_PLAGE"}


def test_all_errors_are_collected_with_row_column_value(workspace):
    rows = [TOURS_HEADER, ["L1", "x", "2024-02-01", "BAILLEUR", "", "ATTRIBUE", "2024-03-01"],
            ["L2", "1", "hier", "BAILLEUR", "", "ATTRIBUE", "2024-03-01"]]
    f = _file(_ingest_with(workspace, tours=rows), "tours")
    found = anomalies(workspace, f.sha256).filter(pl.col("regle") == "FORMAT_INVALIDE")
    assert found.select("ligne", "colonne", "valeur").rows() == [(2, "numero_tour", "x"),
                                                                 (3, "date_orientation", "hier")]
    assert found["message"][1] == ("La valeur « hier » n'est pas valide : une date (2024-03-15, 15/03/2024 "
                                   "ou date Excel) attendu.")
    assert set(found["gravite"]) == {"ERREUR"} and found["conseil"].null_count() == 0


def test_workbook_sheet_rules(workspace):
    data = sheets()
    data["Notes"] = [["texte"], ["libre"]]
    data["Logement"] = data["logements"]
    del data["previsionnel"]
    del data["conventions"]
    write_workbook(workspace.landing / f"{SIREN}_{ANNEE}.xlsx", data)
    (f,) = ingest(workspace).values()
    assert f.statut == "REJETE"
    assert rules(workspace, f.sha256) >= {"FEUILLE_INCONNUE", "FEUILLE_EN_DOUBLE", "FEUILLE_MANQUANTE",
                                          "FEUILLE_FACULTATIVE_MANQUANTE"}


def test_rapport_de_controle_for_accepted_and_rejected_files(workspace):
    rows = [TOURS_HEADER, ["=HYPERLINK(\"http://x\")", "1", "2024-02-01", "BAILLEUR", "", "ATTRIBUE", "2024-03-01"]]
    summary = _ingest_with(workspace, tours=rows)
    rejected, accepted = _file(summary, "tours"), _file(summary, "logements")
    wb = openpyxl.load_workbook(rejected.rapport)
    cells = [c for row in wb.active.iter_rows() for c in row if c.value is not None]
    values = [c.value for c in cells]
    assert "Fichier rejeté" in values and "Gravité" in values and "Conseil" in values
    injected = next(c for c in cells if str(c.value).startswith("=HYPERLINK"))
    assert injected.data_type == "s"
    csv_text = rejected.rapport.replace(".xlsx", ".csv")
    content = open(csv_text, encoding="utf-8-sig").read()
    assert content.startswith("Fichier;Feuille;Ligne;Colonne;Valeur;Règle;Gravité;Message;Conseil")
    assert "'=HYPERLINK" in content
    ok = openpyxl.load_workbook(accepted.rapport).active
    ok_values = [c.value for row in ok.iter_rows() for c in row]
    assert "Fichier accepté" in ok_values and "Aucune anomalie." in ok_values
    assert os.path.dirname(accepted.rapport).endswith(f"rapports/{ANNEE}/{SIREN}")


def test_cross_file_references_use_the_newest_sheet_of_the_drop_set(workspace):
    folder = workspace.landing
    write_csv(folder, "logements", LOGEMENTS)
    write_csv(folder, "conventions", CONVENTIONS)
    first = ingest(workspace)
    assert {f.statut for f in first.values()} == {"ACCEPTE"}
    write_csv(folder, "tours", sheets()["tours"])
    second = ingest(workspace)
    assert _file(second, "tours").statut == "ACCEPTE"
    # a later logements file without L3 leaves tours dangling: warned on the new file
    newer = folder / "v2"
    write_csv(newer, "logements", LOGEMENTS[:3])
    third = ingest(workspace)
    v2 = third[f"v2/{SIREN}_{ANNEE}_logements.csv"]
    assert v2.statut == "ACCEPTE_AVEC_AVERTISSEMENTS" and rules(workspace, v2.sha256) == {"REFERENCE_ORPHELINE"}


def test_tours_alone_cannot_be_checked_yet(workspace):
    write_csv(workspace.landing, "tours", sheets()["tours"])
    (f,) = ingest(workspace).values()
    assert f.statut == "ACCEPTE_AVEC_AVERTISSEMENTS"
    assert rules(workspace, f.sha256) == {"REFERENCE_NON_VERIFIEE"}


def test_idempotent_and_versions_are_kept(workspace):
    paths = write_csv_set(workspace.landing)
    first = ingest(workspace, run_id="r1")
    again = ingest(workspace, run_id="r2")
    assert all(f.nouveau for f in first.values()) and not any(f.nouveau for f in again.values())
    registry = pl.read_parquet(workspace.raw_store / "fichiers" / "*.parquet")
    assert set(registry["run_id"]) == {"r1"}
    # a corrected drop of one sheet is a new version; the old one stays in the store
    tours = paths[1]
    tours.write_text(tours.read_text().replace("L3;1;2024-06-01", "L3;1;2024-06-02"))
    ingest(workspace, run_id="r3")
    registry = pl.read_parquet(workspace.raw_store / "fichiers" / "*.parquet")
    assert registry.filter(pl.col("chemin") == f"{SIREN}_{ANNEE}_tours.csv").height == 2
    assert len(list((workspace.data / "archive").rglob("*.csv"))) == 5
    assert tours.exists() and all(p.exists() for p in paths)


def test_one_bad_bailleur_does_not_stop_the_others(workspace):
    write_csv_set(workspace.landing / "a")
    (workspace.landing / "b").mkdir()
    (workspace.landing / "b" / "130005481_2024.xlsx").write_bytes(b"PK\x03\x04 truncated")
    keys = discover_partitions(workspace.landing)
    summary = ingest_partitions(workspace, keys, "run", max_workers=2)
    statuts = {f.chemin: f.statut for f in summary.files}
    assert statuts["b/130005481_2024.xlsx"] == "REJETE"
    assert statuts[f"a/{SIREN}_{ANNEE}_tours.csv"] == "ACCEPTE"


def test_schema_files_exist_even_for_an_empty_landing(workspace):
    ingest_partitions(workspace, [], "run")
    for table in ("fichiers", "anomalies", "logements", "tours", "conventions", "previsionnel"):
        schema = pl.read_parquet(workspace.raw_store / table / "_schema.parquet")
        assert schema.height == 0 and schema.width > 5


def test_file_level_and_sheet_level_warnings(workspace):
    data = sheets()
    data["previsionnel"] = data["previsionnel"][:1]
    data["conventions"][0].append("date_fin")
    data["conventions"][1].append("31/12/2023")
    data["conventions"][2].append("")
    data["logements"][0].append("rpls_id")
    data["logements"][1].append("")
    data["tours"][0].append("date_bail")
    data["tours"][2].append("bientôt")
    for row in data["tours"][1:]:
        row.extend([""] * (len(data["tours"][0]) - len(row)))
    write_workbook(workspace.landing / "130005482" / f"{SIREN}_{ANNEE}.xlsx", data)
    (f,) = ingest(workspace).values()
    assert f.statut == "ACCEPTE_AVEC_AVERTISSEMENTS"
    assert rules(workspace, f.sha256) == {"FICHIER_DOSSIER_SIREN", "FEUILLE_VIDE", "CONVENTION_HORS_PERIODE",
                                          "FORMAT_FACULTATIF_INVALIDE"}
    tours = pl.read_parquet(workspace.raw_store / "tours" / f"{f.version}.parquet")
    assert tours["date_bail"].null_count() == tours.height


def test_bailleur_siren_with_a_wrong_key_is_rejected(workspace):
    write_csv(workspace.landing, "previsionnel", sheets()["previsionnel"], siren="552046485")
    (f,) = ingest(workspace).values()
    assert f.statut == "REJETE" and rules(workspace, f.sha256) == {"FICHIER_SIREN_CLE"}
