"""The benchmark harness (dagster_project.bench): its measuring parts, no timing assertion."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import dagster as dg
import psutil
import pytest

from dagster_project.bench import redrop, report, runs
from dagster_project.bench.memory import TreeSampler, tree_rss
from dagster_project.bench.stages import (
    CHECKS, DBT, INGESTION, OTHER, TRAMES, StepPlan, asset_metadata, group_by_stage, stage_of,
    step_plans,
)

CP1252_TOURS = (
    "Id logement;Numéro tour;Date orientation;Destinataire;Issue\r\n"
    "L1;1;14/03/2024;PREF78;ATTRIBUE\r\n"
    "L2;1;07/06/2024;BAILLEUR;ATTRIBUE\r\n"
    "L3;1;11/08/2024;ALS;ATTRIBUE\r\n"
    "L4;1;12/08/2024;HORS_FLUX;ATTRIBUE\r\n"
    "L5;1;13/08/2024;CD91;ATTRIBUE\r\n"
).encode("cp1252")
BOM_TOURS = "\ufefflogement_id,numero_tour,destinataire,issue\nL1,1,ALS,ATTRIBUE\nL2,1,\"RIF\",ATTRIBUE\n"


def test_correction_redirects_only_reservataire_tours_and_keeps_the_file_form():
    corrected, changed = redrop.correct_tours(CP1252_TOURS, nb_rows=2)
    assert changed == 2
    assert corrected.decode("cp1252").splitlines() == [
        "Id logement;Numéro tour;Date orientation;Destinataire;Issue",
        "L1;1;14/03/2024;BAILLEUR;ATTRIBUE",
        "L2;1;07/06/2024;BAILLEUR;ATTRIBUE",
        "L3;1;11/08/2024;BAILLEUR;ATTRIBUE",
        "L4;1;12/08/2024;HORS_FLUX;ATTRIBUE",
        "L5;1;13/08/2024;CD91;ATTRIBUE",
    ]
    assert b"\r\n" in corrected


def test_later_corrections_touch_further_rows():
    corrected, changed = redrop.correct_tours(CP1252_TOURS, nb_rows=2, skip=2)
    assert changed == 1
    lines = corrected.decode("cp1252").splitlines()
    assert lines[1].split(";")[3] == "PREF78" and lines[5].split(";")[3] == "BAILLEUR"


def test_correction_of_a_utf8_bom_file_keeps_the_bom():
    corrected, changed = redrop.correct_tours(BOM_TOURS.encode("utf-8"), nb_rows=5)
    assert changed == 2
    assert corrected.startswith(b"\xef\xbb\xbf")
    assert corrected.decode("utf-8-sig") == ("logement_id,numero_tour,destinataire,issue\n"
                                            "L1,1,BAILLEUR,ATTRIBUE\nL2,1,BAILLEUR,ATTRIBUE\n")


def test_correction_is_a_new_file_and_is_cleaned_up(tmp_path):
    landing = tmp_path / "raw"
    (landing / "123456789").mkdir(parents=True)
    original = landing / "123456789" / "123456789_2024_tours.csv"
    original.write_bytes(CP1252_TOURS)
    assert redrop.largest_tours_file(landing) == original
    first, _ = redrop.drop_correction(original, 1)
    second, _ = redrop.drop_correction(original, 2)
    assert original.read_bytes() == CP1252_TOURS
    assert first.name == second.name == original.name and first != second
    assert redrop.tours_files(landing) == [original]
    redrop.remove_corrections(landing)
    assert sorted(p.name for p in (landing / "123456789").iterdir()) == [original.name]


@pytest.mark.parametrize(("step", "plan", "stage"), [
    ("raw_ingestion", StepPlan(assets={"raw/tours", "raw/fichiers"}), INGESTION),
    ("flux_dbt", StepPlan(assets={"fct_tours"}, checks=40), DBT),
    ("fct_tours_qualite_fct_tours", StepPlan(checks=1), CHECKS),
    ("quality_scorecard", StepPlan(assets={"quality_scorecard"}), CHECKS),
    ("trames", StepPlan(assets={"trames"}), TRAMES),
    ("something_new", StepPlan(assets={"other"}), OTHER),
])
def test_stage_of_a_step_follows_what_it_produces(step, plan, stage):
    assert stage_of(step, plan) == stage


def test_stages_sum_their_steps_and_list_failures():
    plans = {
        "a_check": StepPlan(checks=1, start=10.0, end=12.5, status="SUCCESS"),
        "b_check": StepPlan(checks=1, start=13.0, end=14.0, status="FAILURE"),
        "never_ran": StepPlan(checks=1),
    }
    stages = group_by_stage(plans)
    assert list(stages) == [CHECKS]
    assert stages[CHECKS].seconds == pytest.approx(3.5)
    assert stages[CHECKS].failed == ["b_check"]
    assert (stages[CHECKS].first_start, stages[CHECKS].last_end) == (10.0, 14.0)


@dg.asset(key=["raw", "tours"])
def _raw_tours() -> None: ...


@dg.asset(key="trames", deps=[_raw_tours])
def _trames() -> dg.MaterializeResult:
    return dg.MaterializeResult(metadata={"nb_ecrites": 3, "nb_trames": 4})


@dg.asset_check(asset=_trames)
def _trames_check() -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=True)


def test_stages_are_read_from_a_real_run_event_log(tmp_path):
    with dg.DagsterInstance.ephemeral() as instance:
        result = dg.materialize([_raw_tours, _trames, _trames_check], instance=instance)
        stages = group_by_stage(step_plans(instance, result.run_id))
        assert {INGESTION, TRAMES, CHECKS} <= set(stages)
        assert asset_metadata(instance, result.run_id, "trames") == {"nb_ecrites": 3, "nb_trames": 4}
        run = instance.get_run_by_id(result.run_id)
        figures = runs.run_figures(instance, run, time.time() - 1, time.time(), tmp_path)
        assert figures["statut"] == "SUCCESS"
        assert figures["trames"]["nb_ecrites"] == 3


def test_rewritten_trames_are_grouped_by_owner(tmp_path):
    year = tmp_path / "marts" / "trames" / "2024"
    year.mkdir(parents=True)
    files = [{"bailleur_siren": "111111111", "run_id": "r2"}, {"bailleur_siren": "111111111", "run_id": "r1"},
             {"bailleur_siren": "", "run_id": "r2"}, {"bailleur_siren": "222222222", "run_id": "r1"}]
    (year / "manifest.json").write_text(json.dumps({"files": files}), "utf-8")
    assert runs.rewritten_trames(tmp_path, 2024, "r2", "111111111_2024") == {
        "du_bailleur": {"reecrites": 1, "total": 2},
        "regionales": {"reecrites": 1, "total": 1},
        "autres_bailleurs": {"reecrites": 0, "total": 1},
    }


def test_sampler_counts_the_children():
    child = subprocess.Popen([sys.executable, "-c", "b = bytearray(200 * 2**20); import time; time.sleep(30)"])
    try:
        me = psutil.Process()
        deadline = time.time() + 20
        while tree_rss(me) < me.memory_info().rss + 150 * 2**20 and time.time() < deadline:
            time.sleep(0.1)
        with TreeSampler(me.pid, interval=0.05) as sampler:
            time.sleep(0.2)
        assert sampler.peak >= me.memory_info().rss + 150 * 2**20
    finally:
        child.kill()
        child.wait()


def test_table_shows_targets_and_verdicts():
    lines = report.ratio_lines(2.5) + [report.Line("x", "1 s", "≤ 2 s", True)]
    table = report.render_table(lines)
    assert "× 2.50" in table and "MANQUÉ" in table and "OK" in table


def test_dbt_results_are_summarised_by_type_and_slowest_node(tmp_path):
    from dagster_project.bench.dbt_results import dbt_profile

    folder = tmp_path / "flux_dbt-abcdef1-123"
    folder.mkdir()
    results = [{"unique_id": "model.flux.a", "execution_time": 2.0},
               {"unique_id": "test.flux.t", "execution_time": 0.5},
               {"unique_id": "model.flux.b", "execution_time": 1.0}]
    (folder / "run_results.json").write_text(json.dumps({"elapsed_time": 3.1, "results": results}))
    profile = dbt_profile("abcdef1234", tmp_path)
    assert profile["dbt_elapsed_s"] == 3.1
    assert profile["par_type"] == {"model": {"noeuds": 2, "secondes": 3.0},
                                   "test": {"noeuds": 1, "secondes": 0.5}}
    assert profile["plus_lents"][0] == {"noeud": "model.flux.a", "secondes": 2.0}
    assert dbt_profile("0000000", tmp_path) == {}


def test_sampler_counts_the_cpu_of_short_lived_children():
    with TreeSampler(psutil.Process().pid, interval=0.05) as sampler:
        busy = subprocess.Popen([sys.executable, "-c", "import time\nt = time.process_time()\n"
                                 "while time.process_time() - t < 1.0: pass\ntime.sleep(0.5)"])
        busy.wait()
    assert sampler.cpu_seconds >= 0.5


def test_only_the_campaign_itself_is_judged_on_the_end_to_end_target():
    run = {"generation": {"reutilisee": True}, "secondes": 200.0, "code_retour": 0,
           "cpu_secondes": 300.0, "rss_pic_octets": 2**30, "rss_max_un_processus_octets": 2**29}

    def end_to_end(lines):
        return next(line for line in lines if "bout en bout" in line.label)

    assert end_to_end(report.campaign_lines("idf", run)).ok is False
    assert end_to_end(report.campaign_lines("idf2", run, judged=False)).ok is None


def test_the_median_re_drop_is_reported_with_every_try():
    tries = [{"secondes": s, "lancement": "x", "run_id": str(s)} for s in (31.0, 29.5, 40.2)]
    median = runs.median_redrop(tries)
    assert median["run_id"] == "31.0" and median["essais_secondes"] == [31.0, 29.5, 40.2]
    failed = {"erreur": "le capteur demande 0 exécution(s) : []"}
    assert runs.median_redrop([tries[0], failed, tries[1]]) == failed


def test_reading_memory_is_measured_per_file_in_a_fresh_process(tmp_path, monkeypatch):
    from dagster_project.bench.lecture import measure

    monkeypatch.setenv("FLUX_MAX_FILE_MB", "0.2")
    monkeypatch.setenv("FLUX_MAX_UNZIPPED_MB", "2")
    figures = measure(tmp_path, say=lambda line: None, bomb_mib=8)
    assert figures["csv_taille_max"]["statut"] == "ACCEPTE_AVEC_AVERTISSEMENTS"
    assert figures["xlsx_decompresse_max"]["regles"] == [
        "FEUILLE_FACULTATIVE_MANQUANTE", "FEUILLE_MANQUANTE", "REFERENCE_NON_VERIFIEE"]
    assert figures["bombe_zip"]["regles"] == ["FICHIER_ARCHIVE_SUSPECTE"]
    assert all(0 < figures[k]["pic_rss_octets"] < figures["cible_octets"]
               for k in ("csv_taille_max", "xlsx_decompresse_max", "bombe_zip"))


def test_the_read_floor_reads_every_dropped_file_with_the_project_reader(acceptance_landing):
    from dagster_project.bench import plancher

    files = plancher.dropped_files(acceptance_landing.landing)
    figures = plancher.read_floor(acceptance_landing.landing, workers=1)
    assert figures["fichiers"] == len(files) > 0
    assert figures["octets"] == sum(f.stat().st_size for f in files)
    assert figures["secondes"] == figures["secondes_somme"] > 0


def test_the_write_floor_writes_the_campaign_trames_again_and_cleans_up(tmp_path):
    from trames_synthetic import synthetic_marts, write_marts

    from dagster_project.bench import plancher
    from dagster_project.trames.campaign import generate_trames

    write_marts(synthetic_marts(2, seed=5), tmp_path / "marts")
    result = generate_trames(tmp_path / "marts", tmp_path / "trames", "run-1", workers=1)
    sizes = sum(p.stat().st_size for p in (tmp_path / "trames").rglob("*.xlsx"))
    figures = plancher.write_floor(tmp_path / "marts", tmp_path / "plancher", workers=1)
    assert figures["trames"] == len(result.written) > 0
    assert figures["octets"] == pytest.approx(sizes, rel=0.01)  # only the cover's run id differs
    assert set(figures["ms_par_trame"]) == {"construction", "serialisation",
                                            "serialisation_openpyxl_stock", "ecriture_fichier"}
    assert not (tmp_path / "plancher").exists()
    floor = {"lecture": {"fichiers": 3, "secondes": 1.0},
             "ecriture_trames": figures | {"secondes": 2.0},
             "plancher_secondes": 3.0, "bout_en_bout_sur_plancher": 1.6}
    [ratio] = [line for line in report.floor_lines("idf", {"plancher": floor})
               if "÷ plancher" in line.label]
    assert (ratio.value, ratio.ok) == ("× 1.60", False)


def test_private_api_gains_are_medians_against_the_interleaved_re_drops():
    def tries(*seconds):
        return [{"derniere_trame_secondes": s} for s in seconds]

    gains = runs.private_api_gains({runs.WITH_ALL: tries(10.0, 12.0, 11.0),
                                    "dagster_dbt_cli": tries(14.0, 13.0, 30.0),
                                    "openpyxl_writer": [*tries(11.5), {"erreur": "x"}]})
    assert gains[runs.WITH_ALL]["mediane_secondes"] == 11.0
    assert gains["dagster_dbt_cli"]["gain_secondes"] == 3.0
    assert gains["dagster_dbt_cli"]["ratio_sans_sur_avec"] == pytest.approx(14 / 11, abs=1e-3)
    assert gains["openpyxl_writer"]["erreurs"] == ["x"]
    lines = {line.label: line for line in report.private_api_lines(gains)}
    dbt = next(line for label, line in lines.items() if "dagster_dbt_cli" in label)
    assert dbt.ok is True and "+3.0 s" in dbt.value


def test_only_the_new_process_re_drop_is_judged_on_the_re_drop_targets():
    redrop = {"bailleur": "1_2024", "fichier_corrige": "f", "statut_fichier_corrige": "ACCEPTE",
              "capteur_secondes": 0.0, "secondes": 9.0, "rss_pic_octets": 1,
              "derniere_trame_secondes": 7.5, "rapport_apres_debut_run_secondes": 2.5}
    judged = {line.target: line.ok for line in report.redrop_lines("nouveau_processus", redrop)
              if line.target}
    assert judged == {"≤ 2 s": False, "≤ 8 s": True, "≤ 5 s": False}
    assert not any(line.target for line in report.redrop_lines("meme_processus", redrop))


def test_the_rapport_and_the_last_trame_of_a_re_drop_are_found_on_disk(acceptance_landing):
    from dagster_project.ingest.pipeline import discover_partitions, ingest_partitions

    p = acceptance_landing
    root = p.data
    assert p.landing == runs.bench_paths(root).landing
    ingest_partitions(p, discover_partitions(p.landing), run_id="r1", max_workers=1)
    dropped = sorted(p.landing.rglob("*_tours.*"))[0]
    written = runs.rapport_written_at(root, dropped)
    assert written is not None
    assert written in {f.stat().st_mtime for f in p.rapports.rglob("*.xlsx")}
    year = p.trames / "2024"
    year.mkdir(parents=True)
    (year / "a.xlsx").write_bytes(b"a")
    (year / "b.xlsx").write_bytes(b"b")
    files = [{"file": "a.xlsx", "run_id": "r2"}, {"file": "b.xlsx", "run_id": "r1"}]
    (year / "manifest.json").write_text(json.dumps({"files": files}), "utf-8")
    assert runs.last_trame_written_at(root, 2024, "r2") == (year / "a.xlsx").stat().st_mtime
    assert runs.last_trame_written_at(root, 2024, "r3") is None


def test_every_writer_compared_writes_the_same_cells():
    import datetime as dt
    import io

    import openpyxl
    from test_trames_render import _report

    from dagster_project.bench import writers
    from dagster_project.trames.render import build_workbook

    wb = build_workbook(_report(), "run-1", dt.datetime(2025, 2, 1, 8, 0))
    expected = {ws.title: {(c.row, c.column): c.value for r in ws.iter_rows() for c in r
                           if c.value is not None} for ws in wb.worksheets}
    for name in writers.WRITERS:
        back = openpyxl.load_workbook(io.BytesIO(writers.WRITE[name](writers.content(wb))))
        cells = {ws.title: {(c.row, c.column): c.value for r in ws.iter_rows() for c in r
                            if c.value is not None} for ws in back.worksheets}
        assert cells == expected, name
    assert set(writers.time_writers(wb)) == set(writers.WRITERS)
