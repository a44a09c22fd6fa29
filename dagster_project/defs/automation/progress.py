"""French progress lines for a campaign run, read from the run's Dagster event log."""

from __future__ import annotations

import threading
from collections.abc import Callable

import dagster as dg

# Step keys contain the asset or op name: the first matching fragment names the stage.
STAGES = (
    ("raw", "ingestion des fichiers"),
    ("dbt", "modèles dbt et tests"),
    ("quality", "contrôles qualité"),
    ("qualite", "contrôles qualité"),
    ("donnees_personnelles", "contrôles qualité"),
    ("published_marts", "publication des marts"),
    ("campaign_summary", "résumé de campagne"),
    ("trames", "écriture des trames"),
    ("suivi_campagne", "suivi de campagne"),
)
INGESTION_STAGE = STAGES[0][1]
ROW_COUNT_KEYS = ("dagster/row_count", "nb_lignes", "row_count")
PROGRESS_EVENTS = {
    dg.DagsterEventType.STEP_START,
    dg.DagsterEventType.STEP_SUCCESS,
    dg.DagsterEventType.STEP_FAILURE,
    dg.DagsterEventType.ASSET_MATERIALIZATION,
    dg.DagsterEventType.ASSET_CHECK_EVALUATION,
}


def stage_label(step_key: str) -> str:
    return next((label for fragment, label in STAGES if fragment in step_key), "étape")


def metadata_value(metadata: dict, keys: tuple[str, ...]):
    for key in keys:
        if key in metadata and not isinstance(metadata[key], dg.JsonMetadataValue):
            return getattr(metadata[key], "value", metadata[key])
    return None


def describe_materialization(m: dg.AssetMaterialization) -> str | None:
    if m.partition:  # per-bailleur lines come from the file log once ingestion is done
        return None
    rows = metadata_value(m.metadata, ROW_COUNT_KEYS)
    suffix = f" ({rows} lignes)" if isinstance(rows, int) else ""
    return f"    ✓ {m.asset_key.to_user_string()}{suffix}"


def root_cause(error) -> str:
    """The innermost error's message (the user code's exception, not Dagster's wrapper)."""
    if error is None:
        return ""
    while error.cause is not None:
        error = error.cause
    return " ".join(error.message.split())[:500]


def describe(event: dg.DagsterEvent) -> str | None:
    """One progress line for an event of the run, or None for events not worth a line."""
    kind = event.event_type
    if kind == dg.DagsterEventType.STEP_START:
        return f"▶ {stage_label(event.step_key)} [{event.step_key}]"
    if kind == dg.DagsterEventType.STEP_SUCCESS:
        return f"  terminé : {stage_label(event.step_key)}"
    if kind == dg.DagsterEventType.STEP_FAILURE:
        return f"  ✗ ÉCHEC de l'étape {event.step_key} : {root_cause(event.event_specific_data.error)}"
    if kind == dg.DagsterEventType.ASSET_MATERIALIZATION:
        return describe_materialization(event.event_specific_data.materialization)
    if kind == dg.DagsterEventType.ASSET_CHECK_EVALUATION:
        evaluation = event.event_specific_data
        if evaluation.passed:
            return None
        gravite = "erreur" if evaluation.severity == dg.AssetCheckSeverity.ERROR else "avertissement"
        return f"    ✗ contrôle en échec ({gravite}) : {evaluation.asset_key.to_user_string()} / {evaluation.check_name}"
    return None


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
        while True:
            connection = self.instance.get_records_for_run(
                self.run_id, cursor=self.cursor, of_type=PROGRESS_EVENTS, limit=500
            )
            for record in connection.records:
                event = record.event_log_entry.dagster_event
                line = describe(event)
                if line:
                    self.emit(line)
                if event.is_step_success and stage_label(event.step_key) == INGESTION_STAGE:
                    for bailleur_line in self.after_ingestion():
                        self.emit(bailleur_line)
            self.cursor = connection.cursor
            if not connection.has_more:
                return

    def stop(self) -> None:
        self.finished.set()
        self.join()
