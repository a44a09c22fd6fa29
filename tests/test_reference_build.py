"""The geography seed builder, on a tiny package laid out like @etalab/decoupage-administratif."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "build_reference_seeds.py"


def load_builder():
    spec = importlib.util.spec_from_file_location("build_reference_seeds", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


builder = load_builder()

COMMUNES = [
    {"code": "75056", "nom": "Paris", "departement": "75", "type": "commune-actuelle", "population": 2100000},
    {"code": "75101", "nom": "Paris 1er Arrondissement", "departement": "75",
     "type": "arrondissement-municipal", "commune": "75056", "population": 15000},
    {"code": "93066", "nom": "Saint-Denis", "departement": "93", "type": "commune-actuelle", "population": 149000,
     "anciensCodes": ["75066", "93059"]},
    {"code": "93066", "nom": "Saint-Denis", "departement": "93", "type": "commune-deleguee", "chefLieu": "93066"},
    {"code": "93059", "nom": "Pierrefitte-sur-Seine", "departement": "93", "type": "commune-deleguee",
     "chefLieu": "93066"},
    {"code": "77288", "nom": "Melun", "departement": "77", "type": "commune-actuelle", "population": 41000,
     "anciensCodes": ["77999"]},
    {"code": "69123", "nom": "Lyon", "departement": "69", "type": "commune-actuelle", "population": 520000},
    {"code": "69381", "nom": "Lyon 1er Arrondissement", "departement": "69",
     "type": "arrondissement-municipal", "commune": "69123"},
]  # fmt: skip
EPCI = [
    {"code": "200054781", "nom": "Métropole du Grand Paris", "type": "METRO",
     "membres": [{"code": "75056"}, {"code": "93066"}]},
    {"code": "200072130", "nom": "CA Melun Val de Seine", "type": "CA", "membres": [{"code": "77288"}]},
    {"code": "200046977", "nom": "Métropole de Lyon", "type": "METRO", "membres": [{"code": "69123"}]},
]  # fmt: skip
EPT = [{"code": "200057867", "nom": "Plaine Commune", "type": "EPT", "membres": [{"code": "93066"}]}]
DEPARTEMENTS = [
    {"code": code, "nom": nom, "typeLiaison": liaison}
    for code, nom, liaison in [
        ("69", "Rhône", 2), ("75", "Paris", 0), ("77", "Seine-et-Marne", 0), ("78", "Yvelines", 4),
        ("91", "Essonne", 5), ("92", "Hauts-de-Seine", 4), ("93", "Seine-Saint-Denis", 3),
        ("94", "Val-de-Marne", 2), ("95", "Val-d'Oise", 2),
    ]
]  # fmt: skip


# Two older millésimes (77999 gone by 2024, 93059 on 1 January 2025) and the COG
# history, which dates the 1968 recoding of 75066.
MILLESIMES = {
    2021: [{"code": "93059", "nom": "Pierrefitte-sur-Seine", "type": "commune-actuelle"},
           {"code": "77999", "nom": "Ancienne-Commune", "type": "commune-actuelle"}],
    2024: [{"code": "93059", "nom": "Pierrefitte-sur-Seine", "type": "commune-actuelle"}],
}  # fmt: skip
HISTORY = [
    {"code": "75066", "nom": "Saint-Denis", "type": "COM", "dateFin": "1968-01-01"},
    {"code": "93066", "nom": "Saint-Denis", "type": "COM", "dateDebut": "1968-01-01"},
]  # fmt: skip


def write_package(folder: Path, files: dict[str, list[dict]]) -> Path:
    data = folder / "package" / "data"
    data.mkdir(parents=True)
    for name, content in files.items():
        (data / f"{name}.json").write_text(json.dumps(content), encoding="utf-8")
    return folder / "package"


@pytest.fixture
def package(tmp_path: Path) -> Path:
    return write_package(tmp_path, {"communes": COMMUNES, "epci": EPCI, "ept": EPT, "departements": DEPARTEMENTS})


@pytest.fixture
def history(tmp_path: Path) -> tuple[dict[int, Path], Path]:
    millesimes = {year: write_package(tmp_path / str(year), {"communes": rows}) for year, rows in MILLESIMES.items()}
    return millesimes, write_package(tmp_path / "historique", {"historique-communes": HISTORY})


def test_historical_codes_map_to_the_absorbing_commune_with_their_last_valid_year() -> None:
    millesimes = {year: builder.commune_names(rows) for year, rows in MILLESIMES.items()}
    rows = builder.build_historical_codes(COMMUNES, millesimes, HISTORY, 2025)
    assert [tuple(r.values()) for r in rows] == [
        # 1968 recoding: a commune code until 31 December 1967, no bilan year accepts it
        ("75066", "Saint-Denis", "ANCIENNE_COMMUNE", "93066", 1967, 1967),
        # in 2021, gone in the next millésime read (2024): possibly valid until 2023
        ("77999", "Ancienne-Commune", "ANCIENNE_COMMUNE", "77288", 2023, 2023),
        # merged on 1 January 2025 and commune déléguée since: still a COG code
        ("93059", "Pierrefitte-sur-Seine", "COMMUNE_DELEGUEE", "93066", 2024, ""),
    ]


def test_a_historical_code_without_any_end_date_is_an_error() -> None:
    with pytest.raises(ValueError, match="77999"):
        builder.build_historical_codes(COMMUNES, {}, HISTORY, 2025)


def test_communes_keep_idf_current_communes_and_paris_arrondissements() -> None:
    rows = builder.build_communes(COMMUNES, EPCI, EPT)
    assert [(r["commune_insee"], r["epci_siren"], r["ept_siren"], r["commune_parent"]) for r in rows] == [
        ("75056", "200054781", "", "75056"),
        ("75101", "200054781", "", "75056"),
        ("77288", "200072130", "", "77288"),
        ("93066", "200054781", "200057867", "93066"),
    ]


def test_a_commune_without_epci_is_an_error() -> None:
    with pytest.raises(ValueError, match="77288"):
        builder.build_communes(COMMUNES, EPCI[:1], EPT)


def test_a_commune_in_two_epci_is_an_error() -> None:
    twice = [*EPCI, {"code": "200000000", "nom": "CC X", "type": "CC", "membres": [{"code": "77288"}]}]
    with pytest.raises(ValueError, match="77288"):
        builder.build_communes(COMMUNES, twice, EPT)


def test_state_service_names_use_the_french_preposition() -> None:
    names = [r["service_etat_nom"] for r in builder.build_departements(DEPARTEMENTS)]
    assert names == [
        "UD DRIHL de Paris", "DDETS de Seine-et-Marne", "DDETS des Yvelines", "DDETS de l'Essonne",
        "UD DRIHL des Hauts-de-Seine", "UD DRIHL de la Seine-Saint-Denis", "UD DRIHL du Val-de-Marne",
        "DDETS du Val-d'Oise",
    ]  # fmt: skip


def test_seeds_are_written_sorted_and_identically_on_rerun(package: Path, history, tmp_path: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir(), second.mkdir()
    counts = builder.build_seeds(package, first, *history)
    builder.build_seeds(package, second, *history)
    assert counts == {"ref_communes": 4, "ref_epci": 2, "ref_ept": 1, "ref_departements": 8,
                      "ref_communes_historiques": 3, "ref_cog": 1}
    for path in first.iterdir():
        assert path.read_bytes() == (second / path.name).read_bytes()
    assert (first / "ref_epci.csv").read_text(encoding="utf-8") == (
        "epci_siren,epci_nom,epci_nature,nb_communes_idf\n"
        "200054781,Métropole du Grand Paris,METRO,2\n"
        "200072130,CA Melun Val de Seine,CA,1\n"
    )
