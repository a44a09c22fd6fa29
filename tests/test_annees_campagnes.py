"""Two campaigns in one warehouse: year over year (mart_evolution), forecast against reality
(mart_previsionnel_realise) and the geography of each year (a code merged since).

A small two-year campaign is written here as CSV rows and run by the campaign command, 2024
then 2025 (ingestion, dbt, quality, publication, trames; the trames are read back with openpyxl
as a recipient would); the expected figures are computed from the same rows in plain Python
(the counting rules of the domain README §3), never by the project's SQL.

- Bailleur A (297341513) drops 2024 and 2025. In 2024 some of its dwellings carry 93059
  (Pierrefitte-sur-Seine, merged into Saint-Denis 93066 on 1 January 2025) and the commune of
  Pierrefitte has a convention on 93059; in 2025 the same dwellings carry 93066 and that
  convention is gone; Action Logement's rate in 91 goes from 35 % to 40 %.
- Bailleur B (244244034) only drops 2025: no evolution, no forecast against reality.
"""

from __future__ import annotations

import csv
import math
import random
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl
import pytest

from dagster_project.atomic import sha256_of
from dagster_project.defs.automation.partitions import ANNEE_TAG
from dagster_project.defs.transform.dbt_cli import run_dbt
from dagster_project.ingest.pipeline import discover_partitions, ingest_partitions
from dagster_project.ingest.store import read_registry
from dagster_project.settings import Paths
from tests.campaign_cli import run_cli

A, B = "297341513", "244244034"
PLAINE_COMMUNE = "200057867"
COMMUNES = {"91": ["91228", "91377", "91174"], "93": ["93066", "93048"]}
PIERREFITTE, SAINT_DENIS = "93059", "93066"
HORS_FLUX = ("MUTATION_INTERNE", "RENOUVELLEMENT_URBAIN", "VENTE_HLM")


@dataclass
class Convention:
    code: str
    nom: str
    categorie: str
    siren: str
    perimetre_type: str
    perimetre_code: str
    taux: float
    report_ecart: str = ""


@dataclass
class Campagne:
    """One bailleur's files for one year, as rows."""

    siren: str
    annee: int
    logements: dict[str, str]  # logement_id → commune as dropped
    conventions: list[Convention]
    tours: list[dict] = field(default_factory=list)
    previsionnel: dict[tuple[str, str], int] = field(default_factory=dict)

    def write(self, landing: Path) -> None:
        folder = landing / self.siren
        folder.mkdir(parents=True, exist_ok=True)
        prefix = folder / f"{self.siren}_{self.annee}"
        write_csv(f"{prefix}_logements.csv",
                  ["logement_id", "commune_insee", "qpv", "nb_pieces", "financement", "annee_construction"],
                  [[lid, commune, "non", 3, "PLUS", 1990] for lid, commune in self.logements.items()])
        write_csv(f"{prefix}_conventions.csv",
                  ["reservataire_code", "reservataire_nom", "reservataire_categorie", "reservataire_siren",
                   "perimetre_type", "perimetre_code", "taux_flux", "email", "report_ecart"],
                  [[c.code, c.nom, c.categorie, c.siren, c.perimetre_type, c.perimetre_code, c.taux,
                    f"{c.code.lower()}@{self.siren}.example.fr", c.report_ecart] for c in self.conventions])
        write_csv(f"{prefix}_tours.csv",
                  ["logement_id", "numero_tour", "date_orientation", "destinataire", "categorie_operation",
                   "issue", "date_issue"],
                  [[t["logement_id"], 1, t["date_orientation"].isoformat(), t["destinataire"],
                    t["categorie_operation"], t["issue"],
                    t["date_issue"].isoformat() if t["date_issue"] else ""] for t in self.tours])
        write_csv(f"{prefix}_previsionnel.csv", ["departement", "categorie_operation", "nb_logements_prevus"],
                  [[dep, cat, n] for (dep, cat), n in sorted(self.previsionnel.items())])


def write_csv(path: str, header: list[str], rows: list[list]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)


def departement(commune: str) -> str:
    return commune[:2]


def conventions(siren: str, annee: int) -> list[Convention]:
    rows = [
        Convention("PREF91", "Préfet 91", "ETAT_PRIORITAIRES", "", "DEPARTEMENT", "91", 25.0, report_ecart="non"),
        Convention("PREF93", "Préfet 93", "ETAT_PRIORITAIRES", "", "DEPARTEMENT", "93", 25.0),
        Convention("ALS", "Action Logement Services", "ACTION_LOGEMENT", "502881307", "DEPARTEMENT", "91",
                   35.0 if annee == 2024 else 40.0, report_ecart="oui" if annee == 2024 else ""),
        Convention("ALS", "Action Logement Services", "ACTION_LOGEMENT", "502881307", "DEPARTEMENT", "93", 30.0),
    ]
    if annee == 2024:
        rows.append(Convention("VPIE", "Ville de Pierrefitte-sur-Seine", "COMMUNE", "219300597",
                               "COMMUNE", PIERREFITTE, 20.0))
    return rows


def campagne(siren: str, annee: int, seed: int, n_logements: int, pierrefitte: set[str]) -> Campagne:
    """Dwellings with one tour each, all oriented in ``annee``; those of ``pierrefitte`` carry
    93059 in 2024 and 93066 afterwards."""
    rng = random.Random(seed)
    logements = {}
    for i in range(n_logements):
        lid = f"{siren[:3]}-{i:03d}"
        dep = "93" if i % 3 == 0 else "91"
        commune = rng.choice(COMMUNES[dep])
        if lid in pierrefitte:
            commune = PIERREFITTE if annee == 2024 else SAINT_DENIS
        logements[lid] = commune
    c = Campagne(siren, annee, logements, conventions(siren, annee))
    for lid, commune in logements.items():
        if rng.random() < 0.15:
            continue  # no tour this year
        dep = departement(commune)
        choices = [f"PREF{dep}", "ALS", "BAILLEUR", "HORS_FLUX"]
        if commune == PIERREFITTE:
            choices.append("VPIE")
        destinataire = rng.choice(choices)
        orientation = date(annee, 1, 1) + timedelta(days=rng.randrange(0, 330))
        issue = rng.choice(["ATTRIBUE", "ATTRIBUE", "EN_COURS", "ECHEC_REFUS_CANDIDAT"])
        c.tours.append({
            "logement_id": lid, "date_orientation": orientation, "destinataire": destinataire,
            "categorie_operation": rng.choice(HORS_FLUX) if destinataire == "HORS_FLUX" else "",
            "issue": issue,
            "date_issue": None if issue == "EN_COURS" else orientation + timedelta(days=rng.randrange(1, 30)),
        })
    c.previsionnel = {(dep, cat): rng.randrange(0, 5) for dep in ("91", "93") for cat in HORS_FLUX}
    return c


PIERREFITTE_A = {f"297-{i:03d}" for i in (0, 3, 6, 9, 12, 15)}
CAMPAGNES = [
    campagne(A, 2024, seed=1, n_logements=60, pierrefitte=PIERREFITTE_A),
    campagne(A, 2025, seed=2, n_logements=60, pierrefitte=PIERREFITTE_A),
    campagne(B, 2025, seed=3, n_logements=30, pierrefitte=set()),
]


# ------------------------------------------------------------- expected, in plain Python


def bilan(c: Campagne) -> dict[tuple[str, str, str], float | None]:
    """(niveau, code, indicateur) → figure of one bailleur's year (domain README §3)."""
    figures: dict[tuple[str, str, str], float] = defaultdict(float)
    flux_brut, soustraits = Counter(), Counter()
    perimetre_net = Counter()  # (type, code) → flux net
    for t in c.tours:
        commune = c.logements[t["logement_id"]]
        dep = departement(commune)
        flux_brut[dep] += 1
        dest = t["destinataire"]
        attribue = t["issue"] == "ATTRIBUE"
        if dest == "HORS_FLUX":
            soustraits[dep] += 1
            continue
        perimetre_net["DEPARTEMENT", dep] += 1
        perimetre_net["COMMUNE", commune] += 1
        for niveau, code in (("RESERVATAIRE", dest), ("DEPARTEMENT", dep)):
            figures[niveau, code, "proposes"] += 1
            figures[niveau, code, "attribues"] += attribue
        figures["RESERVATAIRE", dest, "realise"] += attribue
        figures["RESERVATAIRE", dest, "repris"] += 0
    for dep in flux_brut:
        figures["DEPARTEMENT", dep, "flux_brut"] = flux_brut[dep]
        figures["DEPARTEMENT", dep, "soustraits"] = soustraits[dep]
        figures["DEPARTEMENT", dep, "flux_net"] = flux_brut[dep] - soustraits[dep]
        figures["DEPARTEMENT", dep, "proposes"] += 0
        figures["DEPARTEMENT", dep, "attribues"] += 0
    for conv in c.conventions:
        droit = conv.taux / 100 * perimetre_net[conv.perimetre_type, conv.perimetre_code]
        figures["RESERVATAIRE", conv.code, "droit"] += droit
        for indicateur in ("proposes", "attribues", "realise", "repris"):
            figures["RESERVATAIRE", conv.code, indicateur] += 0
    with_rights = {conv.code for conv in c.conventions}
    for code in {code for niveau, code, _ in figures if niveau == "RESERVATAIRE"}:
        if code in with_rights:
            figures["RESERVATAIRE", code, "ecart"] = (
                figures["RESERVATAIRE", code, "realise"] - figures["RESERVATAIRE", code, "droit"])
        else:  # the bailleur's own share has no right, hence no écart
            figures["RESERVATAIRE", code, "droit"] = figures["RESERVATAIRE", code, "ecart"] = None
    return dict(figures)


def expected_evolution() -> dict[tuple, tuple[float | None, float | None]]:
    """(bailleur, annee, niveau, code, indicateur) → (N, N-1), for the bailleurs with both years."""
    by_key = {(c.siren, c.annee): bilan(c) for c in CAMPAGNES}
    out = {}
    for (siren, annee), n in by_key.items():
        n_1 = by_key.get((siren, annee - 1))
        if n_1 is None:
            continue
        for key in n.keys() | n_1.keys():
            out[(siren, annee, *key)] = (n.get(key), n_1.get(key))
    return out


def expected_forecast() -> dict[tuple, tuple[int, int, int]]:
    """(bailleur, annee N, département, catégorie) → (prévus in N-1, soustraits in N, attributions)."""
    by_key = {(c.siren, c.annee): c for c in CAMPAGNES}
    out = {}
    for (siren, annee), c in by_key.items():
        before = by_key.get((siren, annee - 1))
        if before is None:
            continue
        realised, attributions = Counter(), Counter()
        for t in c.tours:
            if t["destinataire"] == "HORS_FLUX":
                key = (departement(c.logements[t["logement_id"]]), t["categorie_operation"])
                realised[key] += 1
                attributions[key] += t["issue"] == "ATTRIBUE"
        for key in {k for k, n in before.previsionnel.items() if n} | realised.keys():
            out[(siren, annee, *key)] = (before.previsionnel.get(key, 0), realised[key], attributions[key])
    return out


# ------------------------------------------------------------------------------ the run


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory, dbt_manifest) -> Paths:
    """The two campaigns run as the regional team runs them, in one data folder: the campaign
    command for 2024, then for 2025 (each ingests, builds, checks and publishes its year)."""
    data = tmp_path_factory.mktemp("deux-annees") / "data"
    p = Paths(data=data.resolve(), landing=(data / "raw").resolve())
    p.landing.mkdir(parents=True)
    for c in CAMPAGNES:
        c.write(p.landing)
    for annee in (2024, 2025):
        result = run_cli(p.data, "--annee", str(annee))
        assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-5000:]
    rejected = read_registry(p.raw_store).filter(pl.col("statut") == "REJETE")["chemin"].to_list()
    assert not rejected, rejected
    return p


def rows(p: Paths, sql: str, params: list | None = None) -> list[tuple]:
    """Rows of ``sql`` on the warehouse, on a connection closed at once (dbt may write next)."""
    with duckdb.connect(str(p.warehouse), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def keyed(p: Paths, sql: str, n_keys: int) -> dict[tuple, tuple]:
    """Rows of ``sql`` as {first ``n_keys`` columns: the other columns}."""
    return {tuple(r[:n_keys]): tuple(r[n_keys:]) for r in rows(p, sql)}


def test_evolution_matches_the_figures_computed_from_the_rows(warehouse) -> None:
    p = warehouse
    observed = keyed(p, "select bailleur_siren, annee, niveau, code, indicateur, valeur_n, valeur_n_1, "
                          "evolution, taux_evolution from mart_evolution "
                          "where niveau in ('RESERVATAIRE', 'DEPARTEMENT')", 5)
    expected = expected_evolution()
    assert observed.keys() == expected.keys()
    for key, (n, n_1) in expected.items():
        got_n, got_n_1, evolution, taux = observed[key]
        assert got_n == (None if n is None else pytest.approx(n)), key
        assert got_n_1 == (None if n_1 is None else pytest.approx(n_1)), key
        both = n is not None and n_1 is not None
        assert evolution == (pytest.approx(n - n_1) if both else None), key
        assert taux == (pytest.approx((n - n_1) / abs(n_1)) if both and n_1 else None), key
    # A convention that ended is still compared: Pierrefitte's, gone with the commune.
    assert (A, 2025, "RESERVATAIRE", "VPIE", "droit") in observed
    assert observed[A, 2025, "RESERVATAIRE", "VPIE", "droit"][0] is None


def test_no_evolution_without_the_previous_year(warehouse) -> None:
    p = warehouse
    years = rows(p, "select distinct bailleur_siren, annee from mart_evolution")
    assert years == [(A, 2025)]


def test_forecast_against_reality_matches_the_rows(warehouse) -> None:
    p = warehouse
    observed = keyed(p, "select bailleur_siren, annee, departement, categorie_operation, prevus, soustraits, "
                          "attributions_relogement, ecart from mart_previsionnel_realise", 4)
    expected = expected_forecast()
    assert expected, "the campaign must have a forecast to compare"
    assert observed == {k: (*v, v[1] - v[0]) for k, v in expected.items()}


def test_a_code_merged_since_is_accepted_and_counted_under_the_absorbing_commune(warehouse) -> None:
    p = warehouse
    anomalies = pl.read_parquet(p.raw_store / "anomalies" / "*.parquet")
    assert anomalies.filter(pl.col("valeur") == PIERREFITTE).is_empty()

    a_2024 = CAMPAGNES[0]
    toured = {t["logement_id"] for t in a_2024.tours if t["destinataire"] != "HORS_FLUX"}
    at_pierrefitte = toured & PIERREFITTE_A
    assert at_pierrefitte, "the campaign must orient dwellings dropped with 93059"
    tours = rows(
        p, "select logement_id, commune_insee, commune_insee_depose, commune, departement, ept_siren "
        "from fct_tours where bailleur_siren = ? and annee = 2024 and commune_insee_depose = ?",
        [A, PIERREFITTE],
    )
    assert {t[0] for t in tours} == {t["logement_id"] for t in a_2024.tours} & PIERREFITTE_A
    assert {t[1:] for t in tours} == {(SAINT_DENIS, PIERREFITTE, SAINT_DENIS, "93", PLAINE_COMMUNE)}

    # The commune breakdown and the EPT count them under Saint-Denis; nothing is "non renseigné".
    proposes_saint_denis = sum(
        1 for t in a_2024.tours
        if t["destinataire"] != "HORS_FLUX" and a_2024.logements[t["logement_id"]] in (PIERREFITTE, SAINT_DENIS))
    cell = rows(
        p, "select sum(proposes) from mart_territoire_ventilation where bailleur_siren = ? and annee = 2024 "
        "and territoire_type = 'DEPARTEMENT' and territoire_code = '93' and dimension = 'commune' "
        "and valeur = ?", [A, SAINT_DENIS])
    assert cell == [(proposes_saint_denis,)]
    assert not rows(
        p, "select * from mart_bilan_ventilation where bailleur_siren = ? and dimension = 'commune' "
        "and valeur in (?, 'NON_RENSEIGNE')", [A, PIERREFITTE])

    # The convention on 93059 covers exactly the dwellings dropped with that code.
    flux_net = rows(
        p, "select flux_net_perimetre from mart_flux_perimetre where bailleur_siren = ? and annee = 2024 "
        "and reservataire_code = 'VPIE' and perimetre_type = 'COMMUNE' and perimetre_code = ?",
        [A, PIERREFITTE])
    assert flux_net == [(len(at_pierrefitte),)]


@pytest.mark.parametrize("annee", range(2017, 2028))
def test_ingestion_and_dbt_accept_the_same_codes_of_each_year(warehouse, annee: int) -> None:
    """reference.communes_of_year (ingestion) and dim_code_commune (dbt) are one rule."""
    from dagster_project.reference import communes_of_year

    p = warehouse
    dbt_rule = dict(rows(
        p, "select code_insee, commune_insee from dim_code_commune "
        "where ? <= coalesce(derniere_annee_valide, ?)", [annee, annee]))
    assert dbt_rule == communes_of_year(annee)


def test_a_convention_on_a_code_merged_since_stacks_on_its_own_place(warehouse) -> None:
    """Rate caps (§6.3): Pierrefitte's 20 % covers old Pierrefitte only, on top of the
    département's conventions (Préfet 25 %, Action Logement 30 %); Saint-Denis stays at 55 %."""
    from dagster_project.quality.checks import CHECKS_BY_NAME, _rate_caps, read_warehouse

    p = warehouse
    caps = _rate_caps(read_warehouse(p.warehouse, CHECKS_BY_NAME["qualite_mart_flux_perimetre"].reads))
    stacked = sum(c.taux for c in conventions(A, 2024) if c.perimetre_code in ("93", PIERREFITTE))
    assert caps.filter(pl.col("bailleur_siren") == A, pl.col("annee") == 2024, pl.col("departement") == "93"
                       ).rows() == [(A, 2024, "93", stacked, 25.0, 0.0, PIERREFITTE)]


def test_the_two_year_campaign_passes_every_quality_check(warehouse) -> None:
    """Nothing blocks either year, the convention on a code merged since included."""
    from dagster_project.quality.checks import CHECKS, read_warehouse, run_check

    p = warehouse
    outcomes = pl.concat([run_check(spec, lambda s=spec: read_warehouse(p.warehouse, s.reads), "deux-annees")
                          for spec in CHECKS])
    failed = outcomes.filter(~pl.col("succes") & (pl.col("gravite") == "ERREUR"))
    assert failed.is_empty(), failed.select("check", "expectation", "note", "exemples").to_dicts()


def test_ecarts_carry_into_the_next_year_only_when_switched_on(warehouse) -> None:
    """[choice] report_ecart_actif: off by default (nothing carries); on, the écart of 2024 of
    the réservataires whose 2024 convention says report_ecart = oui (ALS, not PREF91) moves
    their 2025 droit the other way."""
    p = warehouse
    assert rows(p, "select * from mart_droits_report") == []
    a_2024, a_2025 = (bilan(c) for c in CAMPAGNES[:2])
    ecart_als = a_2024["RESERVATAIRE", "ALS", "ecart"]
    droit_als = max(a_2025["RESERVATAIRE", "ALS", "droit"] - ecart_als, 0)
    try:
        run_dbt(["run", "--select", "mart_droits_report", "--vars", '{"report_ecart_actif": true}'], p)
        observed = keyed(p, "select bailleur_siren, annee, reservataire_code, ecart_n_1, droit_avec_report, "
                            "ecart_avec_report from mart_droits_report", 3)
    finally:
        run_dbt(["run", "--select", "mart_droits_report"], p)
    assert observed.keys() == {(A, 2025, "ALS")}
    assert observed[A, 2025, "ALS"] == pytest.approx(
        (ecart_als, droit_als, a_2025["RESERVATAIRE", "ALS", "realise"] - droit_als))


def test_the_same_file_in_two_years_counts_in_both(workspace: Paths) -> None:
    """Regression: ingestion once skipped a file whose SHA-256 was already in the raw store,
    whatever its bailleur and year, so unchanged conventions re-sent for N+1 were lost."""
    for annee in (2024, 2025):
        Campagne(A, annee, {}, conventions(A, 2025)).write(workspace.landing)
    ingest_partitions(workspace, discover_partitions(workspace.landing), run_id="deux-annees")
    stored = pl.read_parquet(workspace.raw_store / "conventions" / "*.parquet")
    assert sorted(set(stored["annee"].to_list())) == [2024, 2025]


def test_a_store_written_before_report_ecart_gains_the_column(tmp_path: Path) -> None:
    """A data folder of an earlier version (no report_ecart in its schema file) still reads."""
    from dagster_project.ingest import store

    store.ensure_schemas(tmp_path)
    schema_file = tmp_path / "conventions" / store.SCHEMA_FILE
    old = {k: v for k, v in store.table_schema("conventions").items() if k != "report_ecart"}
    pl.DataFrame(schema=old).write_parquet(schema_file)
    store.ensure_schemas(tmp_path)
    assert pl.read_parquet_schema(schema_file)["report_ecart"] == pl.Boolean


# ------------------------------------------------------- the trames, read back like a recipient


@pytest.fixture(scope="module")
def trames(warehouse) -> Path:
    """The trames the two campaign runs wrote (before any test re-runs a year)."""
    return warehouse.trames


EVOLUTION = "Évolution par rapport à 2024"
RESERVATAIRE_LINES = {
    "proposes": "Logements proposés",
    "attribues": "Logements attribués",
    "repris": "Logements repris par le bailleur après carence",
    "realise": "Réalisé (attribués + repris imputés)",
    "droit": "Droit (arrondi)",
    "ecart": "Écart réalisé − droit",
}
TERRITOIRE_LINES = {
    "flux_brut": "Flux brut",
    "soustraits": "Logements soustraits du flux",
    "flux_net": "Flux net",
    "proposes": "Logements proposés (tous destinataires, hors flux exclu)",
    "attribues": "Logements attribués (tous destinataires, hors flux exclu)",
}


def printed(figures: dict, niveau: str, code: str) -> dict[str, int | None]:
    """One year's figures as its bilan prints them: droit rounded half up, écart = réalisé −
    droit arrondi (the acceptance rule of the trames)."""
    lines = RESERVATAIRE_LINES if niveau == "RESERVATAIRE" else TERRITOIRE_LINES
    out = {}
    for indicateur in lines:
        value = figures.get((niveau, code, indicateur))
        out[indicateur] = None if value is None else math.floor(value + 0.5)
    if niveau == "RESERVATAIRE" and out["droit"] is not None:
        out["ecart"] = out["realise"] - out["droit"]
    return out


def expected_lines(before: dict, now: dict, niveau: str, code: str) -> dict[str, tuple]:
    """Line label → (2024, 2025, évolution) of an évolution table."""
    lines = RESERVATAIRE_LINES if niveau == "RESERVATAIRE" else TERRITOIRE_LINES
    b, n = printed(before, niveau, code), printed(now, niveau, code)
    return {
        label: (b[k], n[k], None if b[k] is None or n[k] is None else n[k] - b[k])
        for k, label in lines.items()
    }


def shown_lines(table: list[dict]) -> dict[str, tuple]:
    return {r["Indicateur"]: (r["2024"], r["2025"], r["Évolution"]) for r in table}


def across_years_tables(path: Path) -> list[str]:
    from trames_readback import read_tables

    return [f"{sheet}/{title}" for sheet, tables in read_tables(path).items() for title in tables
            if title and ("volution" in title or "prévus avec le bilan" in title)]


def notice_lines(path: Path) -> set[str]:
    import openpyxl

    return {c.value for c in openpyxl.load_workbook(path)["Notice"]["A"] if c.value}


def test_every_trame_keeps_its_text_inside_its_cells(trames) -> None:
    import openpyxl

    from dagster_project.documents.layout import clipped

    files = sorted(trames.rglob("*.xlsx"))
    assert len(files) > 30
    for path in files:
        for ws in openpyxl.load_workbook(path).worksheets:
            assert clipped(ws) == [], (path.relative_to(trames), ws.title)


def test_reservataire_trames_show_the_evolution_computed_from_the_rows(trames) -> None:
    from trames_readback import read_tables

    a_2024, a_2025 = (bilan(c) for c in CAMPAGNES[:2])
    for code in ("PREF91", "PREF93", "ALS"):
        sheet = read_tables(trames / "2025" / A / "reservataires" / f"{code}.xlsx")["Bilan"]
        assert shown_lines(sheet[EVOLUTION]) == expected_lines(a_2024, a_2025, "RESERVATAIRE", code), code


def test_no_evolution_block_without_the_previous_year(trames) -> None:
    """2024 (no 2023) and bailleur B (2025 only): not even an empty table."""
    from trames_readback import read_tables

    without = [*(trames / "2024").rglob("*.xlsx"), *(trames / "2025" / B).rglob("*.xlsx")]
    assert len(without) > 10
    for path in without:
        assert across_years_tables(path) == [], path.relative_to(trames)
        assert not [s for s in read_tables(path) if s.startswith("Évolution") or s == "Prévu et réalisé"], path
        assert not {"Évolution", "Prévu et réalisé"} & notice_lines(path), path


def forecast_lines(table: list[dict]) -> dict[str, tuple]:
    return {r["Catégorie d'opération"]: (r["Prévus pour 2025 (prévisionnel 2024)"], r["Soustraits en 2025"],
                                          r["Attributions de relogement 2025"]) for r in table}


def expected_forecast_lines(forecasts: list[dict[tuple, tuple]], dep: str) -> dict[str, tuple]:
    """Catégorie label → (prévus, soustraits, attributions) summed over ``forecasts``' bailleurs."""
    from dagster_project.trames import categories

    lines = {label: (0, 0, 0) for _, label in categories.categories_operation()}
    labels = dict(categories.categories_operation())
    for forecast in forecasts:
        for (_, _, d, cat), values in forecast.items():
            if d == dep:
                lines[labels[cat]] = tuple(a + b for a, b in zip(lines[labels[cat]], values, strict=True))
    lines["Total"] = tuple(sum(v[i] for v in lines.values()) for i in range(3))
    return lines


def test_etat_trames_show_evolution_and_forecast_against_reality(trames) -> None:
    from trames_readback import read_tables

    a_2024, a_2025 = (bilan(c) for c in CAMPAGNES[:2])
    forecast_a = {k: v for k, v in expected_forecast().items() if k[0] == A}
    for dep in ("91", "93"):
        sheets = read_tables(trames / "2025" / A / "etat" / f"{dep}.xlsx")
        assert shown_lines(sheets["Évolution"][EVOLUTION]) == expected_lines(a_2024, a_2025, "DEPARTEMENT", dep)
        (forecast,) = sheets["Prévu et réalisé"].values()
        assert forecast_lines(forecast) == expected_forecast_lines([forecast_a], dep), dep
        assert {"Évolution", "Prévu et réalisé"} <= notice_lines(trames / "2025" / A / "etat" / f"{dep}.xlsx")


def test_regional_trames_compare_the_same_bailleurs_both_years(trames) -> None:
    """Like for like: B, published in 2025 only, is in neither side of the regional évolution
    nor of the forecast against reality; the trame says how many bailleurs are compared."""
    from trames_readback import all_text, read_tables

    both = {c.siren for c in CAMPAGNES if c.annee == 2024} & {c.siren for c in CAMPAGNES if c.annee == 2025}
    assert both == {A}

    def summed(annee: int) -> dict:
        out: dict = defaultdict(float)
        for c in CAMPAGNES:
            if c.annee == annee and c.siren in both:
                for key, value in bilan(c).items():
                    out[key] += value or 0
        return out

    before, now = summed(2024), summed(2025)
    forecasts = [{k: v for k, v in expected_forecast().items() if k[0] in both}]
    for dep in ("91", "93"):
        path = trames / "2025" / "regional" / "etat" / f"{dep}.xlsx"
        sheets = read_tables(path)
        assert shown_lines(sheets["Bilan consolidé"][EVOLUTION]) == expected_lines(before, now, "DEPARTEMENT", dep)
        (forecast,) = sheets["Prévu et réalisé"].values()
        assert forecast_lines(forecast) == expected_forecast_lines(forecasts, dep), dep
        assert "périmètre constant : 1 bailleur(s) publié(s) en 2024 et en 2025" in all_text(path)
    synthesis = read_tables(trames / "2025" / "regional" / "synthese_regionale.xlsx")
    lines = {r["Territoire"]: r for r in synthesis["Évolution territoires"]["Évolution par territoire, 2024 et 2025"]}
    for dep, nom in (("91", "Essonne"), ("93", "Seine-Saint-Denis")):
        assert (lines[nom]["Attribués 2024"], lines[nom]["Attribués 2025"]) == (
            before["DEPARTEMENT", dep, "attribues"], now["DEPARTEMENT", dep, "attribues"])
    assert across_years_tables(trames / "2024" / "regional" / "synthese_regionale.xlsx") == []


# ------------------------------------------------- years kept apart (last: it re-drops a file)


def outputs_of_2024(p: Paths) -> dict[str, str]:
    """SHA-256 of every output of the 2024 campaign: its published folder and snapshots, its
    trames, summary, tracking, the rapports de contrôle and archived copies of its files."""
    files_2024 = read_registry(p.raw_store).filter(pl.col("annee") == 2024)
    paths = [
        *p.published(2024).rglob("*"),
        *(p.marts / ".publications" / "2024").rglob("*"),
        *(p.trames / "2024").rglob("*"),
        p.marts / "campagne_2024_resume.md",
        *(f for f in p.suivi.rglob("*") if "2024" in f.relative_to(p.suivi).parts
          or "_2024." in f.name),
        *(f for f in p.rapports.rglob("*") if f"_2024_" in f.name),
        *(p.data / chemin for chemin in files_2024["chemin_archive"].drop_nulls()),
    ]
    return {str(f.relative_to(p.data)): sha256_of(f) for f in paths if f.is_file()}


def test_rerunning_2025_leaves_every_2024_output_byte_identical(warehouse) -> None:
    """Bailleur B re-drops its 2025 tours with one more tour and 2025 is run again: 2025's
    figures change, not one byte of 2024's outputs does, and the run touched no 2024
    partition."""
    p = warehouse
    before = outputs_of_2024(p)
    kinds = {path.split("/")[1] if path.startswith("marts/") else path.split("/")[0] for path in before}
    assert {"2024", ".publications", "trames", "campagne_2024_resume.md", "suivi", "rapports",
            "archive"} <= kinds, kinds
    assert any(path.endswith("/mart_flux.parquet") for path in before)

    b_2025 = CAMPAGNES[2]
    lid = next(lid for lid, commune in b_2025.logements.items()
               if commune.startswith("91") and lid not in {t["logement_id"] for t in b_2025.tours})
    redrop = Campagne(B, 2025, b_2025.logements, b_2025.conventions, [*b_2025.tours, {
        "logement_id": lid, "date_orientation": date(2025, 6, 2), "destinataire": "PREF91",
        "categorie_operation": "", "issue": "ATTRIBUE", "date_issue": date(2025, 6, 20)}],
        b_2025.previsionnel)
    flux_brut = ("select flux_brut from read_parquet(?) where bailleur_siren = ? "
                 "and departement = '91'")
    mart_2025 = str(p.published(2025) / "mart_flux.parquet")
    with duckdb.connect() as con:
        (brut_before,) = con.execute(flux_brut, [mart_2025, B]).fetchone()
    redrop.write(p.landing)

    result = run_cli(p.data, "--annee", "2025")

    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-5000:]
    with duckdb.connect() as con:
        assert con.execute(flux_brut, [mart_2025, B]).fetchone() == (brut_before + 1,)
        catalog_rows = con.execute(
            f"attach '{p.catalog}' as c (read_only); "
            "select annee, count(distinct bailleur_siren) from c.mart_flux group by all order by 1"
        ).fetchall()
    assert catalog_rows == [(2024, 1), (2025, 2)]  # the analysts' views still hold both years
    assert outputs_of_2024(p) == before
    with dg.DagsterInstance.from_config(str(p.data / ".dagster")) as instance:
        runs_of_2024 = {
            record.event_log_entry.run_id
            for record in instance.fetch_materializations(
                dg.AssetRecordsFilter(dg.AssetKey(["raw", "fichiers"]),
                                      asset_partitions=[f"{A}_2024"]), limit=100).records
        }
        assert [instance.get_run_by_id(r).tags[ANNEE_TAG] for r in runs_of_2024] == ["2024"]
