"""The measured runs: generation, the whole campaign through its CLI, and one bailleur's re-drop.

The campaign runs exactly as ``make run`` runs it (``python -m dagster_project.campaign run``,
in a subprocess, against its own data root); stage figures are then read from that run's
Dagster event log. The re-drop is evaluated by the real ``landing_sensor`` and the run it
asks for is executed like the daemon would, in the same instance.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import dagster as dg
import polars as pl
import psutil

from dagster_project.bench import redrop
from dagster_project.bench.dbt_results import dbt_profile
from dagster_project.bench.memory import TreeSampler, max_child_rss_bytes
from dagster_project.bench.stages import asset_metadata, group_by_stage, step_plans
from dagster_project.demo.campaign import MARKER, generate_campaign
from dagster_project.demo.model import Scale
from dagster_project.ingest.dropped import version_id
from dagster_project.ingest.rapport import version_report_base
from dagster_project.ingest.store import read_registry
from dagster_project.private_api import DISABLED_ENV
from dagster_project.settings import Paths

SENSOR = "landing_sensor"
TRAMES_ASSET = "trames"
# Everything the campaign writes under a data root, wiped before a measured full run.
OUTPUTS = ("warehouse", "marts", "archive", "logs", ".dagster")
CAMPAIGN_TIMEOUT_S = 3600  # a hung run (a deadlock) must not hang the benchmark
QUIET_LOGS = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


def bench_paths(root: Path) -> Paths:
    return Paths(data=root, landing=root / "raw")


@contextlib.contextmanager
def data_root(root: Path):
    """Point this process's pipeline (``paths()``, Dagster instance) at ``root`` for a while."""
    keys = ("FLUX_DATA_DIR", "FLUX_LANDING_DIR", "DAGSTER_HOME", "FLUX_LANDING_SETTLE_SECONDS")
    saved = {k: os.environ.get(k) for k in keys}
    os.environ.update(FLUX_DATA_DIR=str(root), FLUX_LANDING_DIR=str(root / "raw"),
                      DAGSTER_HOME=str(root / ".dagster"),
                      # the correction is dropped a moment before the sensor looks at it
                      FLUX_LANDING_SETTLE_SECONDS="0")
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


# ---------------------------------------------------------------------------- generation


def generated_here(landing: Path, scale: Scale, seed: int, annee: int) -> bool:
    marker = landing / MARKER
    if not marker.is_file():
        return False
    meta = json.loads(marker.read_text("utf-8"))
    return ((meta.get("echelle"), meta.get("graine"), meta.get("annee")) == (scale.nom, seed, annee)
            and all((landing / f).is_file() for f in meta["fichiers"]))


def prepare(root: Path, scale: Scale, seed: int, annee: int, regenerate: bool) -> dict:
    """The generated campaign in ``root/raw`` (reused when identical) and no output yet."""
    landing = bench_paths(root).landing
    redrop.remove_corrections(landing)
    for name in OUTPUTS:
        shutil.rmtree(root / name, ignore_errors=True)
    if not regenerate and generated_here(landing, scale, seed, annee):
        return {"reutilisee": True, "secondes": 0.0}
    started = time.perf_counter()
    resume = generate_campaign(landing, scale, seed, annee)
    return {"reutilisee": False, "secondes": round(time.perf_counter() - started, 1),
            "bailleurs": resume.nb_bailleurs, "logements": resume.nb_logements,
            "tours": resume.nb_tours}


def landing_size(landing: Path) -> dict:
    files = [p for p in landing.rglob("*") if p.is_file() and not p.name.startswith(".")]
    return {"fichiers": len(files), "octets": sum(p.stat().st_size for p in files)}


# ---------------------------------------------------------------------------- full campaign


def stop_tree(proc: subprocess.Popen) -> None:
    """Kill a subprocess we started and everything it started."""
    root = psutil.Process(proc.pid)
    for child in root.children(recursive=True):
        with contextlib.suppress(psutil.NoSuchProcess):
            child.kill()
    proc.kill()
    proc.wait()


def run_full_campaign(root: Path, log_file: Path, timeout: float = CAMPAIGN_TIMEOUT_S) -> dict:
    """``python -m dagster_project.campaign run`` on ``root``, timed and memory-sampled."""
    env = os.environ | {"FLUX_DATA_DIR": str(root), "FLUX_LANDING_DIR": str(root / "raw")}
    env.pop("DAGSTER_HOME", None)  # the CLI's default: <root>/.dagster
    load_before = load()
    started = time.time()
    with log_file.open("w", encoding="utf-8") as log:
        proc = subprocess.Popen([sys.executable, "-m", "dagster_project.campaign", "run"],
                                stdout=log, stderr=subprocess.STDOUT, env=env)
        with TreeSampler(proc.pid) as sampler:
            try:
                code = proc.wait(timeout)
            except subprocess.TimeoutExpired:
                stop_tree(proc)
                code = "délai dépassé / timeout"
    ended = time.time()
    instance = dg.DagsterInstance.from_config(str(root / ".dagster"))
    run = latest_run(instance, after=started)
    figures = {
        "code_retour": code,
        "journal": str(log_file),
        "secondes": round(ended - started, 2),
        "cpu_secondes": round(sampler.cpu_seconds, 1),
        "rss_pic_octets": sampler.peak,
        "rss_max_un_processus_octets": max_child_rss_bytes(),
        "echantillons_rss": sampler.samples,
        "charge_avant": load_before,
        "charge_apres": load(),
    }
    if run is None:
        return figures | {"run_id": None}
    return figures | run_figures(instance, run, started, ended, bench_paths(root).dbt_artifacts)


def latest_run(instance: dg.DagsterInstance, after: float) -> dg.DagsterRun | None:
    records = instance.get_run_records(limit=1)
    if records and records[0].create_timestamp.timestamp() >= after - 1:
        return records[0].dagster_run
    return None


def run_figures(instance: dg.DagsterInstance, run: dg.DagsterRun, started: float,
                ended: float, dbt_artifacts: Path) -> dict:
    """Run status, its stages from the event log, and where the wall time outside steps went."""
    stats = instance.get_run_stats(run.run_id)
    record = instance.get_run_records(dg.RunsFilter(run_ids=[run.run_id]), limit=1)[0]
    stages = group_by_stage(step_plans(instance, run.run_id))
    in_steps = sum(s.seconds for s in stages.values())
    run_seconds = (stats.end_time or ended) - (stats.start_time or started)
    # creating the run writes one ASSET_MATERIALIZATION_PLANNED event per partition and asset
    creation = (stats.start_time or started) - record.create_timestamp.timestamp()
    trames = asset_metadata(instance, run.run_id, TRAMES_ASSET)
    return {
        "run_id": run.run_id,
        "job": run.job_name,
        "statut": run.status.value,
        "run_secondes": round(run_seconds, 2),
        "creation_run_secondes": round(creation, 2),
        # process start, imports, definitions, partitions before the run; summary after it
        "hors_run_secondes": round((ended - started) - run_seconds - creation, 2),
        "orchestration_secondes": round(run_seconds - in_steps, 2),
        "etapes": {
            name: {"secondes": round(s.seconds, 2), "etapes": {k: round(v, 2) for k, v in s.steps.items()},
                   "en_echec": s.failed}
            for name, s in stages.items()
        },
        "trames": trames_figures(trames, stages.get("trames")),
        "dbt": dbt_profile(run.run_id, dbt_artifacts),
    }


def trames_figures(metadata: dict, stage) -> dict:
    if not metadata:
        return {}
    written = int(metadata.get("nb_ecrites", 0))
    step_seconds = stage.seconds if stage else 0.0
    return {
        "nb_trames": metadata.get("nb_trames"),
        "nb_ecrites": written,
        "nb_inchangees": metadata.get("nb_inchangees"),
        "duree_generation_s": metadata.get("duree_s"),
        "classeurs_par_seconde": metadata.get("classeurs_par_seconde"),
        # overall: workbooks written over the whole step (loading the marts included)
        "classeurs_par_seconde_etape": round(written / step_seconds, 1) if step_seconds else None,
        "nb_bailleurs_bloques": metadata.get("nb_bailleurs_bloques"),
    }


# ---------------------------------------------------------------------------- re-drop


def sensor_job() -> dg.JobDefinition:
    """The job ``landing_sensor`` launches; module level so ``dg.reconstructable`` can rebuild it."""
    from dagster_project.definitions import defs

    code_location = defs()
    return code_location.resolve_job_def(code_location.get_sensor_def(SENSOR).job_name)


def evaluate_sensor(instance: dg.DagsterInstance, cursor: str | None) -> dg.SensorResult:
    from dagster_project.defs.ingest.definitions import landing_sensor

    return landing_sensor(dg.build_sensor_context(instance=instance, cursor=cursor))


# Where the re-drop's run executes: in this process, whose code is already loaded (a warm
# worker), then in a new process as the daemon's run worker does (`dagster job execute`:
# interpreter start and code loading included).
LAUNCHES = ("meme_processus", "nouveau_processus")
# Re-drops per launch mode, the median reported: on this shared machine one run moves by ±15 %.
REDROPS_PER_LAUNCH = 3


@contextlib.contextmanager
def output_to(log_file: Path):
    """Send this process's stdout/stderr (and its children's: dbt, step processes) to a file."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with log_file.open("a", encoding="utf-8") as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        try:
            yield
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])


# The private-API modules the benchmark turns off one at a time (private_api/__init__.py), and
# all at once, in a new run process, interleaved with re-drops that keep them all.
PRIVATE_API = ("dagster_sqlite_event_log", "dagster_dbt_cli", "openpyxl_writer")
ALL_PRIVATE_API = "toutes"
WITH_ALL = "avec"


def run_redrops(root: Path, annee: int, private_api_rounds: int = 0,
                per_launch: int = REDROPS_PER_LAUNCH) -> dict:
    """``per_launch`` corrected re-drops per launch mode, on the campaign just run; the
    median one per mode. Then ``private_api_rounds`` rounds of new-process re-drops with each
    private-API module off, and with none off (``api_privee``)."""
    os.sync()  # the campaign's files flushed first: their writeback would slow the first re-drop
    with data_root(root), output_to(root / "bench-redepot.log"), \
            dg.DagsterInstance.get() as instance:
        started = time.perf_counter()
        cursor = evaluate_sensor(instance, None).cursor  # the sensor has seen the campaign
        figures = {"capteur_initial_secondes": round(time.perf_counter() - started, 2),
                   "journal": str(root / "bench-redepot.log")}
        original = redrop.largest_tours_file(root / "raw")
        n = 0
        for launch in LAUNCHES:
            tries = []
            for _ in range(per_launch):
                n += 1
                figure, cursor = run_redrop(root, annee, instance, cursor, original, n, launch)
                tries.append(figure)
            figures[launch] = median_redrop(tries)
        if private_api_rounds:
            variants = [WITH_ALL, *PRIVATE_API, ALL_PRIVATE_API]
            tries = {v: [] for v in variants}
            for _ in range(private_api_rounds):
                for variant in variants:
                    n += 1
                    off = {WITH_ALL: "", ALL_PRIVATE_API: ",".join(PRIVATE_API)}.get(variant, variant)
                    figure, cursor = run_redrop(root, annee, instance, cursor, original, n,
                                                "nouveau_processus", disabled=off)
                    tries[variant].append(figure)
            figures["api_privee"] = private_api_gains(tries)
    return figures


def private_api_gains(tries: dict[str, list[dict]]) -> dict:
    """Per variant: every try's sensor → last trame time, the median, and the gain of the
    module(s) = median without − median with all of them (same run, interleaved)."""
    def median(values: list[float]) -> float | None:
        values = sorted(v for v in values if v is not None)
        return values[len(values) // 2] if values else None

    out = {}
    for variant, figures in tries.items():
        times = [f.get("derniere_trame_secondes") for f in figures if "erreur" not in f]
        out[variant] = {"essais_secondes": times, "mediane_secondes": median(times),
                        "erreurs": [f["erreur"] for f in figures if "erreur" in f]}
    base = out[WITH_ALL]["mediane_secondes"]
    for variant, figure in out.items():
        if variant != WITH_ALL and base is not None and figure["mediane_secondes"] is not None:
            figure["gain_secondes"] = round(figure["mediane_secondes"] - base, 2)
            figure["ratio_sans_sur_avec"] = round(figure["mediane_secondes"] / base, 3)
    return out


def median_redrop(tries: list[dict]) -> dict:
    """The median re-drop by total time, with every try's total; the first failure if any."""
    failed = [t for t in tries if "erreur" in t]
    if failed:
        return failed[0]
    ordered = sorted(tries, key=lambda t: t["secondes"])
    return ordered[len(ordered) // 2] | {"essais_secondes": [t["secondes"] for t in tries]}


def run_redrop(root: Path, annee: int, instance: dg.DagsterInstance, cursor: str | None,
               original: Path, n: int, launch: str, disabled: str = ""
               ) -> tuple[dict, str | None]:
    """Drop the ``n``-th correction of ``original``; time the sensor and the run it asks for
    (``disabled``: private-API modules turned off in the run's process)."""
    dropped, nb_rows = redrop.drop_correction(original, n)
    started_at = time.time()
    started = time.perf_counter()
    with TreeSampler(os.getpid()) as sampler:
        result = evaluate_sensor(instance, cursor)
        sensor_seconds = time.perf_counter() - started
        requests = result.run_requests or []
        if len(requests) != 1:
            keys = sorted({r.partition_key for r in requests})
            return {"erreur": f"le capteur demande {len(requests)} exécution(s) : {keys}"}, result.cursor
        request = requests[0]
        tags = request.tags | {"dagster/partition": request.partition_key}
        run_started = time.perf_counter()
        run = execute_run(instance, tags, launch, disabled)
        run_seconds = time.perf_counter() - run_started
    total = time.perf_counter() - started
    figures = {
        "bailleur": request.partition_key,
        "fichier_original": original.relative_to(root / "raw").as_posix(),
        "fichier_corrige": dropped.relative_to(root / "raw").as_posix(),
        "lignes_corrigees": nb_rows,
        "statut_fichier_corrige": file_status(root, dropped),
        "capteur_secondes": round(sensor_seconds, 2),
        "lancement": launch,
        "api_privee_desactivee": disabled,
        "secondes": round(total, 2),
        "rss_pic_octets": sampler.peak,
        "cpu_secondes": round(sampler.cpu_seconds, 1),
    }
    if run is None:
        return figures | {"erreur": "aucune exécution enregistrée"}, result.cursor
    run_start = instance.get_run_stats(run.run_id).start_time
    rapport = rapport_written_at(root, dropped)
    last_trame = last_trame_written_at(root, annee, run.run_id)
    return figures | {
        "trames_reecrites": rewritten_trames(root, annee, run.run_id, request.partition_key),
        # the targets: sensor tick → last trame written; run start → the file's rapport
        "derniere_trame_secondes": after(last_trame, started_at),
        "rapport_apres_debut_run_secondes": after(rapport, run_start),
        "rapport_apres_capteur_secondes": after(rapport, started_at),
    } | run_figures(instance, run, run_started, run_started + run_seconds,
                    bench_paths(root).dbt_artifacts), result.cursor


def after(moment: float | None, origin: float | None) -> float | None:
    return None if moment is None or origin is None else round(moment - origin, 2)


def execute_run(instance: dg.DagsterInstance, tags: dict, launch: str, disabled: str = ""
                ) -> dg.DagsterRun | None:
    """Execute the sensor's job with the request's tags, here or in a new process (which
    loads the code itself: naming the job must not load it here; ``disabled``: private-API
    modules it runs without)."""
    from dagster_project.defs.ingest.definitions import landing_sensor

    if launch == "meme_processus":
        if disabled:
            raise ValueError("les modules d'API privée ne se désactivent que dans un nouveau processus")
        done = dg.execute_job(dg.reconstructable(sensor_job), instance=instance, tags=tags,
                              run_config=QUIET_LOGS, raise_on_error=False)
        return instance.get_run_by_id(done.run_id)
    started = time.time()
    subprocess.run([sys.executable, "-m", "dagster", "job", "execute",
                    "-m", "dagster_project.definitions", "-j", landing_sensor.job_name,
                    "--tags", json.dumps(tags)], check=False,
                   env=os.environ | {DISABLED_ENV: disabled})
    return latest_run(instance, after=started)


def registry_row(root: Path, dropped: Path) -> dict | None:
    """The raw store's row of the dropped file (its verdict, hash, bailleur, year)."""
    chemin = dropped.relative_to(root / "raw").as_posix()
    rows = read_registry(bench_paths(root).raw_store).filter(pl.col("chemin") == chemin)
    return rows.row(0, named=True) if rows.height else None


def file_status(root: Path, dropped: Path) -> str | None:
    row = registry_row(root, dropped)
    return row["statut"] if row else None


def rapport_written_at(root: Path, dropped: Path) -> float | None:
    """When the rapport de contrôle of the dropped file was written (its file's mtime)."""
    row = registry_row(root, dropped)
    if row is None:
        return None
    base = version_report_base(bench_paths(root).rapports, row["bailleur_siren"], row["annee"],
                               row["nom_fichier"], version_id(row["chemin"], row["sha256"]))
    xlsx = base.with_name(base.name + ".xlsx")
    return xlsx.stat().st_mtime if xlsx.is_file() else None


def last_trame_written_at(root: Path, annee: int, run_id: str) -> float | None:
    """mtime of the last trame this run wrote (None if it wrote none)."""
    year_dir = bench_paths(root).trames / str(annee)
    manifest = year_dir / "manifest.json"
    if not manifest.is_file():
        return None
    files = [year_dir / e["file"] for e in json.loads(manifest.read_text("utf-8"))["files"]
             if e["run_id"] == run_id]
    times = [f.stat().st_mtime for f in files if f.is_file()]
    return max(times) if times else None


def rewritten_trames(root: Path, annee: int, run_id: str, partition: str) -> dict:
    """Trames this run rewrote, by owner: the bailleur, regional ones, anybody else (a bug)."""
    manifest = bench_paths(root).trames / str(annee) / "manifest.json"
    if not manifest.is_file():
        return {}
    siren = partition.split("_")[0]
    entries = json.loads(manifest.read_text("utf-8"))["files"]

    def owner(entry: dict) -> str:
        if not entry["bailleur_siren"]:
            return "regionales"
        return "du_bailleur" if entry["bailleur_siren"] == siren else "autres_bailleurs"

    total = Counter(owner(e) for e in entries)
    rewritten = Counter(owner(e) for e in entries if e["run_id"] == run_id)
    return {group: {"reecrites": rewritten[group], "total": total[group]}
            for group in ("du_bailleur", "regionales", "autres_bailleurs")}
