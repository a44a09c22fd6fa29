"""One campaign at a time per data folder, and recovery of the runs a dead process left behind.

The rule, shared by the CLI and the daemon (sensor, schedule):

- the instance (``<data>/.dagster``) runs one run at a time: the daemon's runs wait in
  Dagster's queue (``max_concurrent_runs: 1``, visible as "Queued" in ``make dev``), and a CLI
  command refuses at once, in French, naming the run in progress;
- two CLI commands on the same data folder exclude each other by an OS file lock
  (``<data>/.dagster/campagne.lock``), which the kernel releases when its process dies, even
  by ``kill -9``.

A run is in progress while its status says so *and* the process that wrote its last event is
alive. At start, the CLI marks the others failed (their process is gone: a crash, ``kill -9``,
a reboot) and frees the ``duckdb_writer`` slots they held, so the next campaign never waits for
a dead run.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import duckdb

from dagster_project.settings import DUCKDB_WRITER_POOL

LOCK_FILE = "campagne.lock"
IN_PROGRESS = (
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
)
# An interrupted dbt may outlive its run's process for a moment, holding flux.duckdb.
WAREHOUSE_RELEASE_SECONDS = 60


class CampaignBusy(Exception):
    """Another campaign runs on this data folder; the message says which (French)."""


@dataclass
class CampaignLock:
    """The OS lock of one data folder's campaigns, held by this process until ``release``."""

    path: Path
    handle: object | None = None

    def acquire(self, command: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+", encoding="utf-8")  # noqa: SIM115 - held while we run
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = _holder_text(handle.read())
            handle.close()
            raise CampaignBusy(
                f"Une campagne est déjà en cours sur ce dossier de données ({holder}). "
                "Attendez sa fin (suivi : make dev, onglet Runs) avant d'en relancer une."
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps({"pid": os.getpid(), "commande": command,
                                 "debut": datetime.now(UTC).isoformat(timespec="seconds")}))
        handle.flush()
        self.handle = handle

    def release(self) -> None:
        if self.handle is not None:
            self.handle.close()  # closing the file releases the lock
            self.handle = None


def _holder_text(content: str) -> str:
    try:
        holder = json.loads(content)
    except json.JSONDecodeError:
        return "processus inconnu"
    parts = [f"processus {holder.get('pid', '?')}", f"lancée le {holder.get('debut', '?')}"]
    if holder.get("commande"):
        parts.append(f"commande « {holder['commande']} »")
    return ", ".join(parts)


def process_alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def run_pid(instance: dg.DagsterInstance, run_id: str) -> int | None:
    """The process that wrote the run's last Dagster event (its run process)."""
    records = instance.get_records_for_run(run_id, limit=50, ascending=False).records
    events = (r.event_log_entry.dagster_event for r in records)
    return next((e.pid for e in events if e is not None and e.pid), None)


def describe_run(run: dg.DagsterRun) -> str:
    return f"exécution {run.run_id} (job {run.job_name})"


def recover_dead_runs(instance: dg.DagsterInstance) -> list[str]:
    """Mark failed the runs in progress whose process is gone, free every ``duckdb_writer``
    slot no live run holds; return what was done, in French."""
    said = []
    for record in instance.get_run_records(dg.RunsFilter(statuses=list(IN_PROGRESS))):
        run = record.dagster_run
        pid = run_pid(instance, run.run_id)
        if process_alive(pid):
            continue
        instance.report_run_failed(
            run,
            f"Le processus de l'exécution (pid {pid}) a disparu (arrêt brutal, redémarrage) : "
            "exécution marquée en échec au lancement de la campagne suivante.",
        )
        instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
        said.append(
            f"Reprise après incident : {describe_run(run)} interrompue (processus {pid} "
            "disparu), marquée en échec ; ses verrous d'écriture sont libérés."
        )
    live = {r.dagster_run.run_id for r in instance.get_run_records(
        dg.RunsFilter(statuses=list(IN_PROGRESS)))}
    info = instance.event_log_storage.get_concurrency_info(DUCKDB_WRITER_POOL)
    for slot in info.claimed_slots:
        if slot.run_id not in live:
            instance.event_log_storage.free_concurrency_slots_for_run(slot.run_id)
            said.append(
                f"Verrou d'écriture DuckDB (pool {DUCKDB_WRITER_POOL}) libéré : il était tenu "
                f"par l'exécution terminée {slot.run_id} (étape {slot.step_key})."
            )
    return said


def runs_in_progress(instance: dg.DagsterInstance) -> list[dg.DagsterRun]:
    return [r.dagster_run for r in instance.get_run_records(
        dg.RunsFilter(statuses=list(IN_PROGRESS)))]


def refuse_if_busy(instance: dg.DagsterInstance) -> None:
    """Raise CampaignBusy naming the runs in progress on this instance (after recovery)."""
    running = runs_in_progress(instance)
    if running:
        names = ", ".join(describe_run(r) for r in running)
        raise CampaignBusy(
            f"Une exécution est déjà en cours sur ce dossier de données : {names}. "
            "Attendez sa fin (suivi : make dev, onglet Runs) avant de relancer la campagne."
        )


def wait_for_warehouse(warehouse: Path, say, seconds: float = WAREHOUSE_RELEASE_SECONDS) -> None:
    """Wait until no leftover process (a dbt of an interrupted run) holds ``flux.duckdb``."""
    if not warehouse.exists():
        return
    deadline = time.monotonic() + seconds
    told = False
    while True:
        try:
            duckdb.connect(str(warehouse)).close()
            return
        except duckdb.IOException:
            if time.monotonic() > deadline:
                raise CampaignBusy(
                    f"L'entrepôt {warehouse} reste verrouillé par un autre processus "
                    "(un dbt d'une exécution interrompue ?) : arrêtez-le puis relancez."
                ) from None
            if not told:
                say(f"En attente de la libération de l'entrepôt {warehouse} (processus d'une "
                    "exécution interrompue)…")
                told = True
            time.sleep(1)


def remove_stale_temporaries(root: Path) -> int:
    """Delete the temporary files a killed run left beside its outputs (``.<name>.*.tmp``,
    atomic.py and publish.py): with the lock held and no run in progress, none is in use."""
    stale = [path for path in root.rglob(".*.tmp") if path.is_file()] if root.is_dir() else []
    for path in stale:
        path.unlink(missing_ok=True)
    return len(stale)
