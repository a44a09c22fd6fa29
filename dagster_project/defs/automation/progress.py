"""French progress lines for a campaign run, read from the run's Dagster event log.

One line when a stage starts and one when it ends, with its duration (a stage is one or more
consecutive steps: the quality checks are several); the person running the campaign sees
stages, not Dagster's step names. Also: each bailleur's status once ingestion is done, the
trames written so far (``n / N``), failed checks, and what a step waits for.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import dagster as dg

# Step keys contain the asset or op name: the first matching fragment names the stage.
STAGES = (
    ("raw", "ingestion des fichiers"),
    ("flux_dbt_regional", "consolidations régionales (dbt)"),
    ("dbt", "modèles dbt et tests"),
    ("quality", "contrôles qualité"),
    ("qualite", "contrôles qualité"),
    ("donnees_personnelles", "contrôles qualité"),
    ("statut_bailleurs", "statut des bailleurs"),
    ("published_marts", "publication des marts"),
    ("campaign_summary", "résumé de campagne"),
    ("trames", "écriture des trames"),
    ("suivi_campagne", "suivi de campagne"),
)
INGESTION_STAGE = STAGES[0][1]
# The error of a step stopped by Ctrl-C or SIGTERM (interrupts.py).
INTERRUPTED = "DagsterExecutionInterruptedError"
# Metadata of the trames' progress observations (defs/reports/definitions.py).
TRAMES_DONE, TRAMES_TOTAL = "trames_faites", "trames_a_ecrire"
PROGRESS_EVENTS = {
    dg.DagsterEventType.STEP_START,
    dg.DagsterEventType.STEP_SUCCESS,
    dg.DagsterEventType.STEP_FAILURE,
    dg.DagsterEventType.ASSET_CHECK_EVALUATION,
    dg.DagsterEventType.ASSET_OBSERVATION,
    dg.DagsterEventType.ENGINE_EVENT,
    dg.DagsterEventType.RUN_SUCCESS,
    dg.DagsterEventType.RUN_FAILURE,
}


def stage_label(step_key: str) -> str:
    return next((label for fragment, label in STAGES if fragment in step_key), "étape")


def root_cause(error) -> str:
    """The innermost error's message (the user code's exception, not Dagster's wrapper)."""
    if error is None:
        return ""
    while error.cause is not None:
        error = error.cause
    return " ".join(error.message.split())[:500]


def seconds(value: float) -> str:
    return f"{value:.1f} s".replace(".", ",")


def check_line(evaluation) -> str | None:
    if evaluation.passed:
        return None
    gravite = "erreur" if evaluation.severity == dg.AssetCheckSeverity.ERROR else "avertissement"
    return (
        f"    ✗ contrôle en échec ({gravite}) : "
        f"{evaluation.asset_key.to_user_string()} / {evaluation.check_name}"
    )


def trames_line(observation: dg.AssetObservation) -> str | None:
    metadata = observation.metadata
    if TRAMES_DONE not in metadata:
        return None
    return f"    trames : {metadata[TRAMES_DONE].value} / {metadata[TRAMES_TOTAL].value}"


def pool_of(event: dg.DagsterEvent) -> str | None:
    """The pool a step waits for, when the event says it is blocked by its limit."""
    data = event.event_specific_data
    metadata = getattr(data, "metadata", None) or {}
    pool = metadata.get("pool")
    return getattr(pool, "value", pool) if pool is not None else None


class StageTracker:
    """Turns the run's events into stage lines, in order."""

    def __init__(self, after_ingestion: Callable[[], list[str]], holder: Callable[[str], str]):
        self.after_ingestion = after_ingestion
        self.holder = holder  # pool → "tenu par …" (French)
        self.stage: str | None = None
        self.started = 0.0

    def _end_stage(self, now: float) -> list[str]:
        if self.stage is None:
            return []
        lines = [f"  terminé : {self.stage} ({seconds(now - self.started)})"]
        self.stage = None
        return lines

    def lines(self, event: dg.DagsterEvent, timestamp: float) -> list[str]:
        kind = event.event_type
        if kind == dg.DagsterEventType.STEP_START:
            label = stage_label(event.step_key)
            if label == self.stage:
                return []
            lines = self._end_stage(timestamp)
            self.stage, self.started = label, timestamp
            return [*lines, f"▶ {label}"]
        if kind == dg.DagsterEventType.STEP_SUCCESS and stage_label(event.step_key) == INGESTION_STAGE:
            return [*self.after_ingestion(), *self._end_stage(timestamp)]
        if kind == dg.DagsterEventType.STEP_FAILURE:
            self.stage = None  # not "terminé"
            cause = root_cause(event.event_specific_data.error)
            if INTERRUPTED in cause:
                return [f"  ✗ INTERROMPU : {stage_label(event.step_key)} (arrêt demandé)"]
            return [f"  ✗ ÉCHEC : {stage_label(event.step_key)} : {cause}"]
        if kind == dg.DagsterEventType.ASSET_CHECK_EVALUATION:
            return [line] if (line := check_line(event.event_specific_data)) else []
        if kind == dg.DagsterEventType.ASSET_OBSERVATION:
            line = trames_line(event.event_specific_data.asset_observation)
            return [line] if line else []
        if kind == dg.DagsterEventType.ENGINE_EVENT and (pool := pool_of(event)):
            return [
                f"    en attente : {stage_label(event.step_key)} attend le verrou d'écriture "
                f"DuckDB (pool {pool}), {self.holder(pool)}"
            ]
        if kind in (dg.DagsterEventType.RUN_SUCCESS, dg.DagsterEventType.RUN_FAILURE):
            return self._end_stage(timestamp)
        return []


def slot_holder(instance: dg.DagsterInstance, run_id: str) -> Callable[[str], str]:
    def holder(pool: str) -> str:
        claimed = instance.event_log_storage.get_concurrency_info(pool).claimed_slots
        others = [f"exécution {s.run_id} (étape {s.step_key})" for s in claimed if s.run_id != run_id]
        return f"tenu par {', '.join(others)}" if others else "en cours de libération"

    return holder


class RunFollower(threading.Thread):
    """Prints progress lines for the run carrying ``tag`` while it executes in this process.

    ``after_ingestion`` gives the per-bailleur lines printed when the ingestion step ends.
    """

    def __init__(
        self,
        instance: dg.DagsterInstance,
        tag: tuple[str, str],
        emit: Callable[[str], None],
        after_ingestion: Callable[[], list[str]],
    ):
        super().__init__(daemon=True)
        self.instance, self.tag, self.emit = instance, tag, emit
        self.after_ingestion = after_ingestion
        self.finished = threading.Event()
        self.run_id: str | None = None
        self.cursor: str | None = None
        self.tracker: StageTracker | None = None

    def run(self) -> None:
        while not self.finished.wait(0.5):
            self.poll()
        self.poll()

    def poll(self) -> None:
        if self.run_id is None:
            runs = self.instance.get_run_records(
                dg.RunsFilter(tags={self.tag[0]: self.tag[1]}), limit=1
            )
            if not runs:
                return
            self.run_id = runs[0].dagster_run.run_id
            self.tracker = StageTracker(self.after_ingestion, slot_holder(self.instance, self.run_id))
        while True:
            connection = self.instance.get_records_for_run(
                self.run_id, cursor=self.cursor, of_type=PROGRESS_EVENTS, limit=500
            )
            for record in connection.records:
                entry = record.event_log_entry
                for line in self.tracker.lines(entry.dagster_event, entry.timestamp):
                    self.emit(line)
            self.cursor = connection.cursor
            if not connection.has_more:
                return

    def stop(self) -> None:
        self.finished.set()
        self.join()
