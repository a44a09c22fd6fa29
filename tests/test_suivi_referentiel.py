"""The bailleurs' reference (seed ref_bailleurs) and the campaign calendar (seed ref_echeances)."""

from __future__ import annotations

import random
import re
from datetime import date, datetime

import duckdb
import polars as pl
import pytest

from dagster_project.demo.model import SCALES, luhn_complete
from dagster_project.demo.referentiel import referentiel_csv
from dagster_project.ingest.naming import siren_checksum_ok
from dagster_project.suivi import echeances as ech
from dagster_project.suivi.referentiel import NON_REFERENCE, load_referentiel, validate
from dagster_project.settings import DBT_PROJECT_DIR, SEEDS_DIR

DEPARTEMENTS = {"75", "77", "78", "91", "92", "93", "94", "95"}


def test_shipped_seed_is_valid_and_is_the_demo_reference() -> None:
    ref = load_referentiel()
    assert ref.problemes == ()
    assert len(ref.bailleurs) == 13
    assert (SEEDS_DIR / "ref_bailleurs.csv").read_bytes() == referentiel_csv(SCALES["demo"], 2024), (
        "Régénérer : python -c 'from dagster_project.demo.referentiel import referentiel_csv; …'")
    assert ref.nom("769145608") == "LUTECE – Lutèce Habitat"
    assert ref.nom("552046484") == NON_REFERENCE


def test_invalid_rows_are_left_out_with_a_french_reason() -> None:
    good = luhn_complete("30000000")
    bad_key = good[:-1] + str((int(good[-1]) + 1) % 10)
    frame = pl.DataFrame({
        "bailleur_siren": [good, bad_key, "12345", good, luhn_complete("40000000"),
                           luhn_complete("50000000"), luhn_complete("60000000")],
        "raison_sociale": ["A", "B", "C", "A bis", "", "E", "F"],
        "sigle": ["", None, None, None, None, None, None],
        "departements": ["75", "75", "75", "75", "75", "75,13", "93"],
        "courriels": ["a@a.fr", "b@b.fr", "c@c.fr", "a@a.fr", "e@e.fr", "e@e.fr", "pas-un-courriel"],
    })
    ref = validate(frame, DEPARTEMENTS)
    assert list(ref.bailleurs) == [good]
    assert ref.nom(good) == "A"
    assert ref.problemes == (
        f"ref_bailleurs.csv, ligne 3 : SIREN {bad_key} invalide (clé de contrôle fausse).",
        "ref_bailleurs.csv, ligne 4 : SIREN « 12345 » invalide (9 chiffres attendus).",
        f"ref_bailleurs.csv, ligne 5 : SIREN {good} en double (ligne ignorée).",
        f"ref_bailleurs.csv, ligne 6 : raison sociale vide pour le SIREN {luhn_complete('40000000')}.",
        "ref_bailleurs.csv, ligne 7 : département(s) inconnu(s) 13.",
        "ref_bailleurs.csv, ligne 8 : courriel(s) invalide(s) pas-un-courriel.",
    )


def test_missing_columns_are_reported_not_raised() -> None:
    ref = validate(pl.DataFrame({"siren": ["1"]}), DEPARTEMENTS)
    assert ref.bailleurs == {} and "Colonnes manquantes" in ref.problemes[0]


def test_dbt_siren_test_agrees_with_the_python_luhn_check() -> None:
    """The seed's dbt test `siren_valide` (SQL) and ingestion's check say the same thing."""
    macro = (DBT_PROJECT_DIR / "macros" / "generic_tests.sql").read_text()
    body = re.search(r"{% test siren_valide\(model, column_name\) %}(.*?){% endtest %}", macro, re.S)
    sql = body.group(1).replace("{{ column_name }}", "s").replace("{{ model }}", "t")
    rng = random.Random(17)
    values = [f"{rng.randrange(10**9):09d}" for _ in range(2000)] + ["12345678", "abcdefghi", "356000000"]
    con = duckdb.connect()
    con.execute("create table t as select unnest(?) as s", [values])
    failing = {r[0] for r in con.execute(sql).fetchall()}
    assert failing == {v for v in values if not (v.isdigit() and len(v) == 9 and siren_checksum_ok(v))}


def test_deadlines_of_2024_and_the_legal_default() -> None:
    e = ech.echeances(2024)
    assert (e.date_legale, e.date_tolerance, e.date_relance) == (
        date(2025, 2, 28), date(2025, 3, 31), date(2025, 2, 14))
    assert ech.echeances(2027).date_legale == date(2028, 2, 29)  # leap year
    assert ech.echeances(2027).date_tolerance == date(2028, 2, 29)


@pytest.mark.parametrize(("depot", "au", "attendu"), [
    (datetime(2025, 2, 28, 23, 59), datetime(2025, 6, 1), ech.A_L_HEURE),
    (datetime(2025, 3, 1, 0, 1), datetime(2025, 6, 1), ech.DANS_LA_TOLERANCE),
    (datetime(2025, 3, 31, 18), datetime(2025, 6, 1), ech.DANS_LA_TOLERANCE),
    (datetime(2025, 4, 1, 8), datetime(2025, 6, 1), ech.EN_RETARD),
    (None, datetime(2025, 2, 28, 20), ech.EN_ATTENTE),
    (None, datetime(2025, 3, 1, 8), ech.MANQUANT),
])
def test_delai(depot, au, attendu) -> None:
    assert ech.echeances(2024).delai(depot, au) == attendu
