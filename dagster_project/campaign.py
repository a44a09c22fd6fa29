"""Command line of the yearly campaign (used by ``make run``, ``make dev`` and the benchmark).

    python -m dagster_project.campaign run [--landing DIR] [--annee N]
    python -m dagster_project.campaign instance      # prepares and prints DAGSTER_HOME
    python -m dagster_project.campaign envoyer --annee N [--test-a ADRESSE | --envoyer | --export]

``run`` works on one bilan year (``--annee``, default the latest dropped): it registers the
bailleur partitions found in the landing folder, then executes the ``campagne`` job over that
year's partitions only in ONE run of the persistent Dagster instance (so the run shows up in
``make dev``), prints progress per stage and per bailleur, and ends with the French summary.
The run publishes that year only (``paths().published(annee)``): the other years' outputs are
not touched. Exit code 1 when the run fails, 2 when another campaign runs on the same data folder
(run_guard.py: one at a time; runs of a dead process are marked failed at start).
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import os
import shutil
import sys
import uuid
from pathlib import Path

import dagster as dg

from dagster_project.defs.automation.definitions import (
    campaign_job,
    run_failed_checks,
    run_start,
)
from dagster_project.defs.automation.partitions import (
    campaign_tags,
    discovered_keys,
    keys_of_year,
    partition_annee,
    register_partitions,
)
from dagster_project.defs.automation.interrupts import StopOnSignal
from dagster_project.defs.automation.progress import RunFollower, stage_label
from dagster_project.defs.automation.run_guard import (
    LOCK_FILE,
    CampaignBusy,
    CampaignLock,
    recover_dead_runs,
    refuse_if_busy,
    remove_stale_temporaries,
    wait_for_warehouse,
)
from dagster_project.defs.transform.dbt_cli import run_dbt
from dagster_project.envoi import cli as envoi_cli
from dagster_project.settings import DBT_PROJECT_DIR, DUCKDB_WRITER_POOL, Paths, paths
from dagster_project.summary import (
    bailleur_lines,
    collect,
    render_markdown,
    write_summary,
)

LAUNCH_TAG = "flux/lancement"
# Written into <data>/.dagster/dagster.yaml: DuckDB has one writer, so every pool (there is
# one, duckdb_writer) admits one step at a time, across all runs of the instance. The event log
# is Dagster's SQLite one, in its default folder, with its engines kept (event_log.py).
INSTANCE_YAML = """\
# Généré par `python -m dagster_project.campaign instance` (dagster_project/campaign.py).
# runs: one at a time per data folder (run_guard.py): the daemon's runs (sensor, schedule)
# wait in the queue, visibly; a CLI command refuses while a run is in progress.
concurrency:
  pools:
    default_limit: 1
    granularity: op
  runs:
    max_concurrent_runs: 1
run_coordinator:
  module: dagster._core.run_coordinator
  class: QueuedRunCoordinator
run_monitoring:
  enabled: true
event_log_storage:
  module: dagster_project.event_log
  class: PooledSqliteEventLogStorage
  config:
    base_dir: {event_log_dir}
telemetry:
  enabled: false
"""


def instance_yaml(home: Path) -> str:
    return INSTANCE_YAML.format(event_log_dir=json.dumps(str(home / "history" / "runs")))


# Progress lines replace Dagster's console log; every event stays in the instance (make dev).
RUN_CONFIG = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}


def prepare_instance() -> Path:
    """DAGSTER_HOME (default ``<data>/.dagster``) with the pool limits; exported for Dagster."""
    explicit = os.environ.get("DAGSTER_HOME")
    home = Path(explicit) if explicit else paths().data / ".dagster"
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not explicit or not config.exists():
        config.write_text(instance_yaml(home.resolve()), encoding="utf-8")
    os.environ["DAGSTER_HOME"] = str(home.resolve())
    return home.resolve()


@contextlib.contextmanager
def output_to(journal: Path):
    """Send this process's and its children's stdout/stderr (dbt, warnings) to ``journal``;
    yield a stream on the original stdout for the progress lines."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = {fd: os.dup(fd) for fd in (1, 2)}
    console = os.fdopen(os.dup(saved[1]), "w", encoding="utf-8", errors="replace")
    with open(journal, "a", encoding="utf-8") as log:
        for fd in (1, 2):
            os.dup2(log.fileno(), fd)
        try:
            yield console
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            for fd, original in saved.items():
                os.dup2(original, fd)
                os.close(original)
            console.close()


def refresh_dbt_manifest(p: Paths) -> None:
    """`dbt parse`, so the dbt assets follow the models as they are now (a fresh clone has no
    manifest). Parsed aside, then swapped in: other processes may be loading the manifest."""
    run_dbt(["parse"], p)
    manifest = DBT_PROJECT_DIR / "target" / "manifest.json"
    manifest.parent.mkdir(exist_ok=True)
    tmp = manifest.with_name(f".manifest.{os.getpid()}.tmp")
    shutil.copyfile(p.dbt_artifacts / "manifest.json", tmp)
    os.replace(tmp, manifest)


def say(line: str) -> None:
    print(line, flush=True)


def choose_year(keys: list[str], annee: int | None) -> int | None:
    """The requested year, else the latest year found in the landing folder."""
    if annee is not None:
        return annee
    years = [y for y in map(partition_annee, keys) if y is not None]
    return max(years) if years else None


def run_campaign(annee: int | None = None) -> int:
    home = prepare_instance()
    lock = CampaignLock(home / LOCK_FILE)
    try:
        lock.acquire(" ".join(["python -m dagster_project.campaign", *sys.argv[1:]]))
        # Closed on the way out: an open instance stays the current one of this process
        # (Dagster keeps it in a context variable) and breaks whatever loads definitions after.
        with dg.DagsterInstance.get() as instance:
            for line in recover_dead_runs(instance):
                say(line)
            refuse_if_busy(instance)
            if removed := remove_stale_temporaries(paths().marts):
                say(f"Reprise après incident : {removed} fichier(s) temporaire(s) supprimé(s).")
            wait_for_warehouse(paths().warehouse, say)
            return _run_campaign(instance, home, annee)
    except CampaignBusy as busy:
        say(f"REFUSÉ : {busy}")
        return 2
    finally:
        lock.release()


def _run_campaign(instance: dg.DagsterInstance, home: Path, annee: int | None) -> int:
    p = paths()
    instance.event_log_storage.set_concurrency_slots(DUCKDB_WRITER_POOL, 1)
    say(f"Campagne : dépôt {p.landing}, sorties {p.data}, instance Dagster {home}")
    if not p.landing.is_dir():
        say(f"ERREUR : le dossier de dépôt {p.landing} n'existe pas (option --landing ou "
            "variable FLUX_LANDING_DIR).")
        return 1
    found = discovered_keys()
    annee = choose_year(found, annee)
    bailleurs = sorted(keys_of_year(found, annee)) if annee is not None else []
    if not bailleurs:
        year = f" de {annee}" if annee is not None else ""
        say(f"ERREUR : aucun fichier de bilan{year} reconnu dans {p.landing} "
            "(noms attendus : <siren>_<année>…).")
        return 1
    refresh_dbt_manifest(p)
    keys = register_partitions(instance, found)
    say(f"Bilan {annee} : {len(bailleurs)} bailleur(s) dans le dépôt : {', '.join(bailleurs)}")

    launch = (LAUNCH_TAG, uuid.uuid4().hex)
    # Tools print to stdout (dbt's log lines): they go to a log file, progress stays readable.
    journal = p.data / "logs" / f"campagne_{annee}_{launch[1][:8]}.log"
    journal.parent.mkdir(parents=True, exist_ok=True)
    say(f"Journal détaillé (dbt…) : {journal}")
    with output_to(journal) as console:
        to_console = functools.partial(print, file=console, flush=True)
        follower = RunFollower(instance, launch, to_console, lambda: bailleur_lines(p, annee))
        follower.start()
        try:
            with StopOnSignal(instance, lambda: follower.run_id, to_console) as stop:
                result = dg.execute_job(
                    dg.reconstructable(campaign_job),
                    instance=instance,
                    tags={**campaign_tags(keys, annee), launch[0]: launch[1]},
                    run_config=RUN_CONFIG,
                    raise_on_error=False,
                )
        finally:
            follower.stop()

    summary = collect(
        p,
        run_id=result.run_id,
        annee=annee,
        run_started=run_start(instance, result.run_id),
        failed_checks=run_failed_checks(instance, result.run_id),
        failed_steps=tuple(
            dict.fromkeys(stage_label(e.step_key) for e in result.all_events if e.is_step_failure)
        ),
    )
    say("")
    say(render_markdown(summary))
    say(f"Résumé enregistré dans {write_summary(summary)}")
    if result.success:
        return 0
    if stop.requested.is_set():
        say(f"Campagne interrompue à la demande : exécution {result.run_id} arrêtée. "
            "Relancez la commande pour reprendre.")
        return 130
    say(f"ÉCHEC de l'exécution {result.run_id} : voir l'interface Dagster (`make dev`).")
    return 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m dagster_project.campaign",
        description="Campagne annuelle des bilans de gestion en flux.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="exécuter toute la campagne d'une année")
    run.add_argument("--landing", type=Path, help="dossier de dépôt (défaut : FLUX_LANDING_DIR)")
    run.add_argument("--annee", type=int, help="année du bilan (défaut : la plus récente déposée)")
    commands.add_parser("instance", help="préparer l'instance Dagster et afficher DAGSTER_HOME")
    envoi_cli.add_parser(commands)
    args = parser.parse_args(argv)

    if args.command == "instance":
        print(prepare_instance())
        return 0
    if args.command == envoi_cli.COMMAND:
        return envoi_cli.run(args)
    if args.landing is not None:
        os.environ["FLUX_LANDING_DIR"] = str(args.landing.resolve())
    try:
        return run_campaign(args.annee)
    except KeyboardInterrupt:  # before or after the run (during it: StopOnSignal)
        say("Campagne interrompue à la demande (Ctrl-C).")
        return 130


if __name__ == "__main__":
    sys.exit(main())
