"""The tracking over a small campaign played on a moving clock: statuses, deadlines, history,
workbook read back, relances and rapports per bailleur. Real ingestion, no Dagster."""

from __future__ import annotations

import email
from datetime import date, datetime
from email import policy
from html.parser import HTMLParser

import openpyxl
import polars as pl
import pytest

from dagster_project import status
from dagster_project.demo import Scale, generate_campaign
from dagster_project.demo.model import plan_bailleurs
from dagster_project.demo.referentiel import bailleur_absent, referentiel, retardataires
from dagster_project.documents.layout import FONT, clipped
from dagster_project.ingest.dropped import landing_entries
from dagster_project.ingest.pipeline import discover_partitions, ingest_partitions
from dagster_project.suivi import classeur, historique, rapport_bailleur, relances, tableau
from dagster_project.suivi import echeances as ech
from dagster_project.suivi.echeances import Echeances, echeances
from dagster_project.suivi.referentiel import validate

MINI = Scale("mini", nb_bailleurs=4, nb_logements=2_000, nb_grands=1, taille_grands=(800, 900))
SEED = 3
UNKNOWN = "552046484"  # Luhn-valid, not in the reference
DEPARTEMENTS = {"75", "77", "78", "91", "92", "93", "94", "95"}


@pytest.fixture(scope="module")
def campagne(tmp_path_factory):
    """The campaign seen at three instants: 10 Feb, 1 Mar (nothing new), 7 Apr (late wave)."""
    mp = pytest.MonkeyPatch()
    root = tmp_path_factory.mktemp("suivi")
    mp.setenv("FLUX_DATA_DIR", str(root / "data"))
    mp.setenv("FLUX_LANDING_DIR", str(root / "data" / "raw"))
    from dagster_project.settings import paths

    p = paths()
    ref = validate(referentiel(MINI, SEED), DEPARTEMENTS)
    bailleurs = plan_bailleurs(MINI, SEED)
    ids = {"absent": bailleur_absent(bailleurs, SEED), "retard": retardataires(bailleurs)[0].siren,
           "a_l_heure": bailleurs[0].siren}
    states = {}

    def look(moment: str) -> tableau.Suivi:
        mp.setenv("FLUX_HORLOGE", moment)
        ingest_partitions(p, discover_partitions(p.landing), run_id=moment)
        st = status.compute(p, 2024, with_quality=False)
        s = tableau.compute(p, st, status.read_fichiers(p), ref, echeances(2024),
                            datetime.fromisoformat(moment))
        historique.record(p, s)
        return s

    generate_campaign(p.landing, MINI, seed=SEED, vague="a-l-heure")
    (p.landing / f"{UNKNOWN}_2024_tours.csv").write_text("ceci;n_est;pas\nun;bilan;!\n", encoding="utf-8")
    (p.landing / "bilan final <v2>.csv").write_text("a;b\n1;2\n", encoding="utf-8")
    states["fev"] = look("2025-02-10T09:00:00")
    states["mars"] = look("2025-03-01T09:00:00")
    generate_campaign(p.landing, MINI, seed=SEED, vague="retard")
    states["avril"] = look("2025-04-07T09:00:00")
    yield p, ids, states
    mp.undo()


def _row(s: tableau.Suivi, siren: str) -> dict:
    return s.lignes.filter(pl.col("bailleur_siren") == siren).row(0, named=True)


def test_statuses_follow_the_clock(campagne):
    _, ids, states = campagne
    fev, mars, avril = states["fev"], states["mars"], states["avril"]
    assert (_row(fev, ids["absent"])["statut"], _row(fev, ids["absent"])["delai"]) == ("ABSENT", ech.EN_ATTENTE)
    assert _row(fev, ids["retard"])["statut"] == "ABSENT"  # nothing seen yet
    on_time = _row(fev, ids["a_l_heure"])
    assert (on_time["statut"], on_time["delai"]) == (status.COMPLET, ech.A_L_HEURE)
    assert on_time["premier_depot"] == datetime(2025, 2, 10, 9)
    assert _row(mars, ids["retard"])["delai"] == ech.MANQUANT
    late = _row(avril, ids["retard"])
    assert (late["statut"], late["delai"]) == (status.COMPLET, ech.EN_RETARD)
    assert late["depot_complet"] == datetime(2025, 4, 7, 9)
    assert _row(avril, ids["a_l_heure"])["delai"] == ech.A_L_HEURE  # its drop date did not move
    assert (_row(avril, ids["absent"])["statut"], _row(avril, ids["absent"])["delai"]) == ("ABSENT", ech.MANQUANT)
    unknown = _row(avril, UNKNOWN)
    assert (unknown["statut"], unknown["reference"], unknown["bailleur_nom"]) == ("REJETE", False, "non référencé")
    assert "non référencé" in unknown["motif"]
    assert avril.count("ABSENT") == 1 and avril.lignes.height == MINI.nb_bailleurs + 2


def test_moving_the_deadlines_moves_the_verdicts(campagne):
    p, ids, states = campagne
    avril = states["avril"]
    st = status.compute(p, 2024, with_quality=False)
    ref = validate(referentiel(MINI, SEED), DEPARTEMENTS)
    later = Echeances(2024, date(2025, 2, 28), date(2025, 4, 30), date(2025, 2, 14))
    s = tableau.compute(p, st, status.read_fichiers(p), ref, later, avril.evalue_le)
    assert _row(s, ids["retard"])["delai"] == ech.DANS_LA_TOLERANCE
    earlier = Echeances(2024, date(2025, 2, 5), date(2025, 2, 5), date(2025, 1, 20))
    s = tableau.compute(p, st, status.read_fichiers(p), ref, earlier, avril.evalue_le)
    assert _row(s, ids["a_l_heure"])["delai"] == ech.EN_RETARD


def test_history_answers_the_state_on_a_date(campagne):
    p, ids, _ = campagne
    assert historique.state_at(p, 2024, datetime(2025, 2, 1)) is None
    first_march = historique.state_at(p, 2024, datetime(2025, 3, 1, 23, 59))
    assert first_march.filter(pl.col("bailleur_siren") == ids["retard"])["statut"].item() == "ABSENT"
    now = historique.state_at(p, 2024, datetime(2025, 12, 31))
    assert now.filter(pl.col("bailleur_siren") == ids["retard"])["statut"].item() == status.COMPLET
    mart = pl.read_parquet(p.published(2024) / "mart_suivi_campagne.parquet")
    assert mart.height == now.height and set(mart["evalue_le"]) == {datetime(2025, 4, 7, 9)}


def test_unattributed_files_are_listed(campagne):
    _, _, states = campagne
    files = states["avril"].non_attribues
    assert sorted(files["chemin"]) == [f"{UNKNOWN}_2024_tours.csv", "bilan final <v2>.csv"]
    assert files.filter(pl.col("bailleur_siren").is_null())["rapport"].item().startswith("rapports/inconnu/")


def test_workbook_reads_back(campagne):
    p, ids, states = campagne
    path = classeur.write_workbook(p.suivi, states["avril"])
    assert path.name == "suivi_campagne_2024.xlsx"
    wb = openpyxl.load_workbook(path)
    deps = sorted({d for b in plan_bailleurs(MINI, SEED) for d in b.departements} | {"77"})
    assert wb.sheetnames[0] == "Tous les bailleurs" and wb.sheetnames[-2:] == ["Fichiers non attribués", "Légende"]
    assert all(f"Dép. {d}" in wb.sheetnames for d in deps)
    ws = wb["Tous les bailleurs"]
    header = [c.value for c in ws[classeur.HEADER_ROW]]
    assert header[:5] == ["SIREN", "Bailleur", "Départements", "Statut", "Délai"]
    rows = {r[0]: dict(zip(header, r)) for r in ws.iter_rows(min_row=classeur.HEADER_ROW + 1, values_only=True)}
    assert (rows[ids["absent"]]["Statut"], rows[ids["absent"]]["Délai"]) == ("absent", "manquant")
    assert (rows[ids["retard"]]["Statut"], rows[ids["retard"]]["Délai"]) == ("complet", "en retard")
    assert rows[ids["retard"]]["Complet le"] == datetime(2025, 4, 7, 11)  # Paris time (CEST)
    assert rows[UNKNOWN]["Bailleur"] == "non référencé"
    assert ws.auto_filter.ref.startswith(f"A{classeur.HEADER_ROW}:")
    assert ws.freeze_panes == f"C{classeur.HEADER_ROW + 1}"
    statut_col = header.index("Statut") + 1
    absent_row = next(r for r in range(classeur.HEADER_ROW + 1, ws.max_row + 1) if ws.cell(r, 1).value == ids["absent"])
    assert ws.cell(absent_row, statut_col).fill.start_color.rgb.endswith(classeur.STATUT_COULEURS["absent"])
    dep77 = [r[0] for r in wb["Dép. 77"].iter_rows(min_row=classeur.HEADER_ROW + 1, values_only=True)]
    assert ids["absent"] in dep77
    unattributed = wb["Fichiers non attribués"].iter_rows(min_row=classeur.HEADER_ROW + 1, values_only=True)
    assert sorted(r[0] for r in unattributed) == sorted(states["avril"].non_attribues["chemin"])
    # widths are measured in the layout's font: it must be the workbook's default font too
    assert wb._named_styles["Normal"].font.name == FONT
    for sheet in wb.worksheets:
        assert clipped(sheet) == [], sheet.title


class _Collect(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.text = [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)

    def handle_data(self, data):
        self.text.append(data)


def test_relances_and_rapports(campagne):
    p, ids, states = campagne
    s = states["avril"]
    rapports = rapport_bailleur.write_all(p, s)
    assert set(rapports) == set(s.lignes["bailleur_siren"])
    drafts = relances.write_drafts(p, s, rapports)
    assert [d.name for d in drafts] == [f"relance_{ids['absent']}.eml"]  # the unknown one has no address
    msg = email.message_from_bytes(drafts[0].read_bytes(), policy=policy.default)
    assert msg["To"] == _row(s, ids["absent"])["courriels"] and msg["X-Unsent"] == "1"
    assert "aucun fichier reçu" in msg["Subject"]
    body = msg.get_body(("plain",)).get_content()
    assert "31/03/2025" in body and "aucun fichier" in body and ids["absent"] in body
    assert [a.get_filename() for a in msg.iter_attachments()] == [rapports[ids["absent"]].name]
    # a rejected bailleur gets its campaign rapport and its file's rapport de contrôle
    rejected = _row(s, UNKNOWN)
    files = relances.attachments(p, rejected, rapports[UNKNOWN])
    assert [f.suffix for f in files] == [".html", ".xlsx"]  # the path ingestion wrote
    text = relances.draft(s, rejected, files).corps
    assert "ne peut pas être pris en compte" in text and "tours" in text and files[1].name in text
    # before the reminder date the absent are not reminded, a rejected one always is
    fev = states["fev"]
    assert {r["bailleur_siren"] for r in relances.due(fev)} == {UNKNOWN}
    page = rapports[UNKNOWN].read_text("utf-8")
    parsed = _Collect()
    parsed.feed(page)
    assert "script" not in parsed.tags and "img" not in parsed.tags and "link" not in parsed.tags
    text = " ".join(parsed.text)
    assert "non référencé" in text and "Pourquoi des fichiers sont rejetés" in text
    assert f"{UNKNOWN}_2024_tours.csv" in text


def test_the_dagster_asset_writes_the_tracking_and_its_counts(campagne, monkeypatch):
    """The asset reads the shipped reference (the demo's 13 bailleurs): none of them dropped
    here, and this campaign's bailleurs are « non référencé »."""
    import dagster as dg

    from dagster_project.defs.suivi.definitions import suivi_campagne
    from dagster_project.summary import collect, render_markdown

    p, _, _ = campagne
    monkeypatch.setenv("FLUX_HORLOGE", "2025-04-08T09:00:00")
    result = dg.materialize([suivi_campagne], tags={"flux/annee": "2024"})
    metadata = {k: v.value for k, v in result.asset_materializations_for_node("suivi_campagne")[0].metadata.items()}
    assert metadata["annee"] == 2024 and metadata["evalue_le"] == "2025-04-08T09:00:00"
    assert (metadata["bailleurs_absent"], metadata["non_references"]) == (13, MINI.nb_bailleurs + 1)
    assert metadata["bailleurs"] == 13 + MINI.nb_bailleurs + 1
    assert metadata["bailleurs_rejeté"] == 1 and metadata["delai_en retard"] == 1
    assert metadata["fichiers_non_attribues"] == len(list(landing_entries(p.landing)))  # all of them
    assert "LUTECE – Lutèce Habitat" in metadata["suivi"]
    wb = openpyxl.load_workbook(classeur.workbook_path(p.suivi, 2024), read_only=True)
    assert wb["Tous les bailleurs"].max_row == classeur.HEADER_ROW + metadata["bailleurs"]
    summary = render_markdown(collect(p, run_id="t", annee=2024, run_started=None, failed_checks=[]))
    assert "## Suivi de la campagne" in summary and "absent : **13**" in summary


def test_before_any_drop_every_expected_bailleur_is_absent(workspace):
    ref = validate(referentiel(MINI, SEED), DEPARTEMENTS)
    empty = status.compute(workspace, 2024, with_quality=False)
    s = tableau.compute(workspace, empty, None, ref, echeances(2024), datetime(2025, 1, 15))
    assert set(s.lignes["statut"]) == {"ABSENT"} and s.lignes.height == MINI.nb_bailleurs + 1
    assert set(s.lignes["delai"]) == {ech.EN_ATTENTE} and s.non_attribues.is_empty()
    assert relances.due(s) == []  # 15 January: before the reminder date
    assert openpyxl.load_workbook(classeur.write_workbook(workspace.suivi, s)).sheetnames[0] == "Tous les bailleurs"
