"""Pure building blocks of ingestion: names, headers, encodings, value parsers."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from dagster_project.ingest.contract import header_lookup, rules, sheets
from dagster_project.ingest.naming import is_ignored, parse_file_name, safe_file_name, siren_checksum_ok
from dagster_project.ingest.parsers import parse_date, parse_integer, parse_percent, parse_qpv
from dagster_project.ingest.parsers import parse_commune, parse_label
import io

from dagster_project.ingest.reader import sniff_separator, transcode
from dagster_project.ingest.text import code, fold


def _apply(parser, values, *args):
    frame = pl.DataFrame({"s": values}, schema={"s": pl.String})
    value, ok = parser(pl.col("s"), *args)
    out = frame.select(value=value, ok=ok)
    return out["value"].to_list(), out["ok"].to_list()


@pytest.mark.parametrize("header", ["Numéro de tour", "numero_tour", "NUMERO TOUR", " numéro-tour ", "rang"])
def test_headers_match_whatever_the_form(header):
    assert header_lookup("tours")[fold(header)] == "numero_tour"


def test_aliases_are_per_sheet():
    assert header_lookup("tours")[fold("Catégorie")] == "categorie_operation"
    assert header_lookup("conventions")[fold("Catégorie")] == "reservataire_categorie"


def test_file_names():
    wb = parse_file_name("552046484_2024.xlsx")
    assert (wb.siren, wb.annee, wb.sheet, wb.partition_key) == ("552046484", 2024, None, "552046484_2024")
    assert parse_file_name("552046484_2024_Tours.csv").sheet == "tours"
    assert parse_file_name("552046484-2024_logements_v2.csv").sheet == "logements"
    assert not parse_file_name("bilan_2024.xlsx").identified
    assert not parse_file_name("55204648_2024.xlsx").identified


def test_safe_file_name_neutralises_path_tricks():
    assert safe_file_name("../../etc/passwd") == "passwd"
    assert safe_file_name("..\\..\\x.xlsx") == "x.xlsx"
    assert safe_file_name("..hidden;rm -rf.csv") == "hidden_rm_-rf.csv"
    assert safe_file_name("Élément 1.csv") == "Element_1.csv"


def test_siren_key_and_ignored_names():
    assert siren_checksum_ok("552046484") and not siren_checksum_ok("552046485")
    assert is_ignored("~$552046484_2024.xlsx") and is_ignored(".~lock.x#") and not is_ignored("a.csv")


@pytest.mark.parametrize("encoding,read_as", [
    ("utf-8-sig", "utf-8-sig"), ("utf-8", "utf-8"), ("cp1252", "cp1252"), ("utf-16", "utf-16"),
    ("utf-16-le", "utf-16-le"), ("utf-16-be", "utf-16-be"),
])
def test_encodings_are_transcoded_to_utf8(tmp_path, encoding, read_as):
    target = tmp_path / "out.csv"
    assert transcode(io.BytesIO("logement_id;été\nL1;é\n".encode(encoding)), target) == read_as
    assert target.read_text(encoding="utf-8") == "logement_id;été\nL1;é\n"


def test_separators():
    assert sniff_separator("a;b;c") == ";"
    assert sniff_separator('a,b,"c;d"\n') == ","


def test_dates_iso_french_excel():
    values, ok = _apply(parse_date, ["2024-03-15", "15/03/2024", "15-03-2024", "45366",
                                     "2024-03-15 00:00:00", "31/02/2024", "demain", None])
    assert values[:5] == [date(2024, 3, 15)] * 5
    assert values[5:7] == [None, None] and ok == [True] * 5 + [False, False, True]


def test_numbers_and_percentages():
    assert _apply(parse_integer, ["3", "3.0", "3,0", "1 200", "3,5", "x"])[0] == [3, 3, 3, 1200, None, None]
    assert _apply(parse_percent, ["30", "30 %", "30,0", "12.5%", "trente"]) == (
        [30.0, 30.0, 30.0, 12.5, None], [True, True, True, True, False])


def test_qpv_codes_and_words():
    values, ok = _apply(parse_qpv, ["1", "2", "oui", "Non", "O", "n", "vrai", "FAUX", "0", "peut-être"])
    assert values == [True, False, True, False, True, False, True, False, False, None]
    assert ok[-1] is False


def test_commune_codes():
    assert _apply(parse_commune, ["93066", "75101", "1053", "2A004", "93066.0", "9306"])[0] == [
        "93066", "75101", "01053", "2A004", "93066", "09306"]
    assert _apply(parse_commune, ["ABCDE"])[1] == [False]


def test_labels_map_to_seed_values_and_unknown_labels_are_kept():
    values, _ = _apply(parse_label, ["hlm/o", "PLA-I", "10.0", "Prêt mystère"], "ref_financements")
    assert values[0] in {"HLM/O", "HLMO", "HLM O", "HLM-O"} and values[2] == "10"
    assert values[3] == "Prêt mystère"
    typos, _ = _apply(parse_label, ["studio", "T5 et +", "t3"], "ref_typologies")
    assert typos == ["STUDIO", "T5 ET +", "T3"]


def test_code_values():
    frame = pl.DataFrame({"s": ["Échec carence", " mise en service ", "PREF91"]})
    assert frame.select(code(pl.col("s")))["s"].to_list() == ["ECHEC_CARENCE", "MISE_EN_SERVICE", "PREF91"]


def test_contract_tables_are_consistent():
    """Every rule has a gravité, a message and a hint; every column type has a parser."""
    for rule in rules().values():
        assert rule.gravite in {"ERREUR", "AVERTISSEMENT"} and rule.message and rule.conseil
    assert {s.name for s in sheets().values()} == {"logements", "tours", "conventions", "previsionnel"}


def test_every_rule_is_documented():
    from pathlib import Path

    doc = (Path(__file__).parent.parent / "docs" / "ingestion.md").read_text()
    assert [code for code in rules() if f"`{code}`" not in doc] == []
