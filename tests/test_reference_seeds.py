"""Facts of the committed reference seeds, read the way the pipeline reads them."""

from __future__ import annotations


import polars as pl
import pytest
import yaml

from dagster_project.ingest.parsers import parse_label
from dagster_project.ingest.text import label_key
from dagster_project.reference import load_seed
from dagster_project.settings import SEEDS_DIR

MGP = "200054781"
EPT = {
    "200057867": "Plaine Commune",
    "200057875": "Est Ensemble",
    "200057941": "Paris Est Marne et Bois",
    "200057966": "Vallée Sud-Grand Paris",
    "200057974": "Grand Paris Seine Ouest",
    "200057982": "Paris Ouest La Défense",
    "200057990": "Boucle Nord de Seine",
    "200058006": "Grand Paris Sud Est Avenir",
    "200058014": "Grand-Orly Seine Bièvre",
    "200058097": "Paris Terres d'Envol",
    "200058790": "Grand Paris Grand Est",
}
# Domain README §4: RPLS FINAN code → family.
RPLS_FAMILLES = {
    "10": "PLAI", "11": "PLAI", "12": "PLUS", "13": "PLUS", "14": "PLS", "16": "PLI",
    "50": "ANCIEN", "51": "ANCIEN", "52": "ANCIEN", "53": "ANCIEN", "54": "ANCIEN",
    "55": "ANCIEN", "99": "ANCIEN", "15": "AUTRE", "17": "AUTRE", "49": "AUTRE",
}  # fmt: skip
FAMILLES = {"PLAI", "PLUS", "PLS", "PLI", "ANCIEN", "AUTRE"}
TYPOLOGIES = ["T1", "T2", "T3", "T4", "T5+"]
SEED_NAMES = sorted(p.stem for p in SEEDS_DIR.glob("ref_*.csv"))


def mapped(seed: str, target: str, written: str) -> str | None:
    """``target`` of the seed row a bailleur's spelling lands on, through the ingestion's lookup."""
    typed, _ = parse_label(pl.col("v"), seed)
    valeur = pl.DataFrame({"v": [written]}).select(typed).item()
    return dict(load_seed(seed).select("valeur", target).iter_rows()).get(valeur)


@pytest.fixture(scope="module")
def communes() -> pl.DataFrame:
    return load_seed("ref_communes")


def communes_actuelles(communes: pl.DataFrame) -> pl.DataFrame:
    return communes.filter(pl.col("commune_parent") == pl.col("commune_insee"))


def test_1266_communes_in_the_eight_departements(communes: pl.DataFrame) -> None:
    actuelles = communes_actuelles(communes)
    assert actuelles.height == 1266
    assert dict(actuelles.group_by("departement").len().iter_rows()) == {
        "75": 1, "77": 507, "78": 259, "91": 194, "92": 36, "93": 39, "94": 47, "95": 183,
    }  # fmt: skip
    assert communes["commune_insee"].is_unique().all()
    assert communes["commune_insee"].str.contains(r"^\d{5}$").all()


def test_paris_arrondissements_roll_up_to_paris(communes: pl.DataFrame) -> None:
    arrondissements = communes.filter(pl.col("commune_parent") == "75056", pl.col("commune_insee") != "75056")
    assert arrondissements["commune_insee"].to_list() == [str(code) for code in range(75101, 75121)]
    paris_like = communes.filter(pl.col("commune_parent") == "75056")
    assert paris_like["epci_siren"].unique().to_list() == [MGP]
    assert paris_like["ept_siren"].null_count() == paris_like.height
    assert paris_like["departement"].unique().to_list() == ["75"]


def test_known_memberships(communes: pl.DataFrame) -> None:
    by_code = {row["commune_insee"]: row for row in communes.iter_rows(named=True)}
    assert by_code["93066"]["commune_nom"] == "Saint-Denis"
    assert by_code["93066"]["ept_siren"] == "200057867"
    assert by_code["75056"]["epci_siren"] == MGP
    assert by_code["92012"]["ept_siren"] == "200057974"  # Boulogne-Billancourt, GPSO
    assert by_code["77288"]["ept_siren"] is None  # Melun, outside the MGP
    assert "93059" not in by_code  # Pierrefitte-sur-Seine merged into Saint-Denis in 2025


def test_ept_are_exactly_the_mgp_communes_other_than_paris(communes: pl.DataFrame) -> None:
    actuelles = communes_actuelles(communes)
    in_mgp = actuelles.filter(pl.col("epci_siren") == MGP)
    assert in_mgp.height == 130
    assert in_mgp.filter(pl.col("ept_siren").is_null())["commune_insee"].to_list() == ["75056"]
    assert actuelles.filter(pl.col("ept_siren").is_not_null(), pl.col("epci_siren") != MGP).is_empty()


def test_the_eleven_ept(communes: pl.DataFrame) -> None:
    ept = load_seed("ref_ept")
    assert dict(ept.select("ept_siren", "ept_nom").iter_rows()) == EPT
    assert ept["nb_communes"].cast(pl.Int64).sum() == 129
    counted = dict(communes.drop_nulls("ept_siren").group_by("ept_siren").len().iter_rows())
    assert counted == dict(ept.select("ept_siren", pl.col("nb_communes").cast(pl.UInt32)).iter_rows())


def test_epci_touching_the_region(communes: pl.DataFrame) -> None:
    epci = load_seed("ref_epci")
    assert epci.height == 52
    assert dict(epci.group_by("epci_nature").len().iter_rows()) == {"METRO": 1, "CU": 1, "CA": 20, "CC": 30}
    assert epci["epci_siren"].is_unique().all()
    assert epci.filter(pl.col("epci_siren") == MGP)["epci_nature"].to_list() == ["METRO"]
    counted = dict(communes_actuelles(communes).group_by("epci_siren").len().iter_rows())
    assert counted == dict(epci.select("epci_siren", pl.col("nb_communes_idf").cast(pl.UInt32)).iter_rows())


def test_departements_and_state_services() -> None:
    departements = load_seed("ref_departements")
    assert dict(departements.select("departement", "service_etat").iter_rows()) == {
        "75": "UD DRIHL", "92": "UD DRIHL", "93": "UD DRIHL", "94": "UD DRIHL",
        "77": "DDETS", "78": "DDETS", "91": "DDETS", "95": "DDETS",
    }  # fmt: skip
    names = dict(departements.select("departement", "service_etat_nom").iter_rows())
    assert names["75"] == "UD DRIHL de Paris"
    assert names["77"] == "DDETS de Seine-et-Marne"
    assert names["91"] == "DDETS de l'Essonne"
    assert names["93"] == "UD DRIHL de la Seine-Saint-Denis"


def test_every_rpls_code_maps_to_its_family() -> None:
    assert {code: mapped("ref_financements", "famille", code) for code in RPLS_FAMILLES} == RPLS_FAMILLES


@pytest.mark.parametrize(
    ("written", "famille"),
    [
        ("PLAI", "PLAI"), ("PLA-I", "PLAI"), ("pla intégration", "PLAI"), ("PLUS", "PLUS"),
        ("PLA", "PLUS"), ("PLS", "PLS"), ("PPLS", "PLS"), ("PCLS", "PLS"), ("PLI", "PLI"),
        ("HLMO", "ANCIEN"), ("HLM/O", "ANCIEN"), ("HBM", "ANCIEN"), ("PLR", "ANCIEN"),
        ("PSR", "ANCIEN"), ("ILM", "ANCIEN"), ("ILN", "ANCIEN"), ("PCL", "AUTRE"),
        ("PAP", "AUTRE"), ("10.0", "PLAI"),
    ],
)  # fmt: skip
def test_financement_labels_map_after_normalisation(written: str, famille: str) -> None:
    assert mapped("ref_financements", "famille", written) == famille


def test_financement_families_are_the_six_of_the_domain() -> None:
    financements = load_seed("ref_financements")
    assert set(financements["famille"]) == FAMILLES
    per_famille = financements.select("famille", "famille_libelle", "famille_ordre").unique()
    assert per_famille.height == 6, "one label and one order per family"
    assert dict(per_famille.select("famille", "famille_libelle").iter_rows())["ANCIEN"] == (
        "Financements antérieurs à 1977"
    )


@pytest.mark.parametrize(
    ("written", "typologie"),
    [
        ("T1", "T1"), ("studio", "T1"), ("Chambre", "T1"), ("T1 bis", "T1"), ("T1BIS", "T1"),
        ("T2", "T2"), ("T3", "T3"), ("T4", "T4"), ("T5", "T5+"), ("T5+", "T5+"), ("T6", "T5+"),
        ("T9", "T5+"),
    ],
)  # fmt: skip
def test_typologie_labels_map_after_normalisation(written: str, typologie: str) -> None:
    assert mapped("ref_typologies", "typologie", written) == typologie


def test_typologies_are_the_five_of_the_domain() -> None:
    typologies = load_seed("ref_typologies")
    ordered = typologies.select("typologie", "ordre").unique().sort(pl.col("ordre").cast(pl.Int64))
    assert ordered["typologie"].to_list() == TYPOLOGIES


@pytest.mark.parametrize(("seed", "target"), [("ref_financements", "famille"), ("ref_typologies", "typologie")])
def test_spellings_folding_to_one_lookup_key_agree(seed: str, target: str) -> None:
    """Ingestion looks labels up by ``label_key`` (punctuation and spaces dropped): spellings
    sharing a key must land on the same category, whichever row the lookup keeps."""
    rows = load_seed(seed)
    assert rows["valeur"].is_unique().all()
    per_key = rows.with_columns(key=label_key(pl.col("valeur"))).group_by("key").agg(
        pl.col(target).n_unique().alias("n")
    )
    assert per_key.filter(pl.col("n") > 1).is_empty()


def periode_of(year: int) -> list[str]:
    periodes = load_seed("ref_periodes_construction").with_columns(
        pl.col("annee_min").cast(pl.Int64), pl.col("annee_max").cast(pl.Int64)
    )
    matching = periodes.filter(
        pl.col("annee_min").is_null() | (pl.col("annee_min") <= year),
        pl.col("annee_max").is_null() | (pl.col("annee_max") >= year),
    )
    return matching["libelle"].to_list()


def test_periodes_de_construction_cover_every_year_once() -> None:
    periodes = load_seed("ref_periodes_construction").sort(pl.col("ordre").cast(pl.Int64))
    assert periodes["libelle"].to_list() == ["avant 1946", "1946-1970", "1971-1990", "1991-2005", "2006 et après"]
    assert all(len(periode_of(year)) == 1 for year in range(1800, 2101))
    assert [periode_of(y)[0] for y in (1945, 1946, 1970, 1971, 2005, 2006)] == [
        "avant 1946", "1946-1970", "1946-1970", "1971-1990", "1991-2005", "2006 et après",
    ]  # fmt: skip


def test_categories_and_outcomes() -> None:
    reservataires = load_seed("ref_categories_reservataire")
    assert reservataires["categorie"].to_list() == [
        "ETAT_PRIORITAIRES", "ETAT_FONCTIONNAIRES", "ACTION_LOGEMENT", "REGION", "DEPARTEMENT",
        "COMMUNE", "EPCI_EPT", "AUTRE",
    ]  # fmt: skip
    assert reservataires.filter(pl.col("est_etat") == "true")["categorie"].to_list() == [
        "ETAT_PRIORITAIRES", "ETAT_FONCTIONNAIRES",
    ]  # fmt: skip
    assert set(load_seed("ref_categories_operation")["categorie_operation"]) == {
        "MUTATION_INTERNE", "RENOUVELLEMENT_URBAIN", "COPRO_DEGRADEE", "HABITAT_INDIGNE",
        "VENTE_HLM", "AUTRE",
    }  # fmt: skip
    issues = load_seed("ref_issues")
    assert dict(issues.select("issue", "est_echec").iter_rows()) == {
        "ATTRIBUE": "false", "ECHEC_CARENCE": "true", "ECHEC_REFUS_CANDIDAT": "true",
        "ECHEC_REFUS_CALEOL": "true", "ECHEC_AUTRE": "true", "EN_COURS": "false",
    }  # fmt: skip
    assert load_seed("ref_hors_assiette")["motif"].to_list() == [
        "DEFENSE", "SECURITE_INTERIEURE", "SANTE", "FOYER", "AUTRE",
    ]  # fmt: skip


def test_lec_overrides_name_known_territories() -> None:
    overrides = load_seed("ref_epci_lec")
    assert overrides.columns == ["territoire_siren", "lec", "motif"]
    territoires = set(load_seed("ref_epci")["epci_siren"]) | set(load_seed("ref_ept")["ept_siren"])
    assert set(overrides["territoire_siren"]) <= territoires
    assert set(overrides["lec"]) <= {"true", "false"}


def test_ventilations_and_qpv_labels() -> None:
    assert load_seed("ref_ventilations")["dimension"].to_list() == [
        "typologie", "financement", "qpv", "commune", "periode_construction",
    ]  # fmt: skip
    assert dict(load_seed("ref_qpv").select("valeur", "libelle").iter_rows()) == {
        "QPV": "QPV", "HORS_QPV": "hors QPV",
    }  # fmt: skip


def test_seed_properties_document_every_seed_and_column() -> None:
    properties = yaml.safe_load((SEEDS_DIR / "_seeds.yml").read_text(encoding="utf-8"))
    assert properties["version"] == 2
    seeds = {seed["name"]: seed for seed in properties["seeds"]}
    assert sorted(seeds) == SEED_NAMES
    for name in SEED_NAMES:
        header = load_seed(name).columns
        seed = seeds[name]
        assert seed["description"].strip(), name
        assert list(seed["config"]["column_types"]) == header, name
        assert [column["name"] for column in seed["columns"]] == header, name
        assert all(column["description"].strip() for column in seed["columns"]), name


def test_the_geography_records_its_cog_year() -> None:
    cog = load_seed("ref_cog")
    assert cog.height == 1
    assert cog["annee_cog"].item() == "2025"


def test_codes_of_year_n_map_to_the_reference_year_commune() -> None:
    from dagster_project.reference import communes_of_year

    # Pierrefitte-sur-Seine merged into Saint-Denis on 1 January 2025, commune déléguée since.
    assert communes_of_year(2024)["93059"] == "93066"
    assert communes_of_year(2025)["93059"] == "93066"
    # Gouzangrez merged into Chars on 1 January 2024: valid in a 2023 bilan, not in 2024.
    assert communes_of_year(2023)["95282"] == "95169"
    assert "95282" not in communes_of_year(2024)
    # The reference year's communes and arrondissements map to themselves.
    assert communes_of_year(2024)["75113"] == "75113"
    assert communes_of_year(2024)["93066"] == "93066"


def test_historical_codes_lie_in_a_reference_commune_and_never_shadow_one(communes: pl.DataFrame) -> None:
    historiques = load_seed("ref_communes_historiques")
    assert historiques["code_insee"].is_unique().all()
    assert not set(historiques["code_insee"]) & set(communes["commune_insee"])
    assert set(historiques["commune_insee"]) <= set(communes_actuelles(communes)["commune_insee"])
