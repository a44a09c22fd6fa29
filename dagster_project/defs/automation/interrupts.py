"""Ctrl-C and SIGTERM stop a campaign command cleanly, whatever its run is doing.

Dagster turns Ctrl-C into an interruption of the running step, but only notes it while a step
waits for a pool slot (it would wait on). SIGTERM is routed to the same path. A watcher thread
learns of either signal through ``signal.set_wakeup_fd`` (which Dagster's own handler does not
change); if the run has not stopped after a grace period, it marks the run canceled, frees its
``duckdb_writer`` slots and ends the process. Every output is written atomically, so nothing
half-written is visible either way.
"""

from __future__ import annotations

import os
import signal
import socket
import sys
import threading
from collections.abc import Callable

import dagster as dg

GRACE_SECONDS = 20.0


class StopOnSignal:
    """Context manager around a run executed in this (main) thread."""

    def __init__(
        self,
        instance: dg.DagsterInstance,
        run_id: Callable[[], str | None],
        emit: Callable[[str], None],
        grace: float = GRACE_SECONDS,
    ):
        self.instance, self.run_id, self.emit, self.grace = instance, run_id, emit, grace
        self.requested = threading.Event()
        self.finished = threading.Event()

    def __enter__(self) -> StopOnSignal:
        self.active = threading.current_thread() is threading.main_thread()
        if not self.active:  # signals reach the main thread only (embedded use, tests)
            return self
        self.reader, self.writer = socket.socketpair()
        self.writer.setblocking(False)
        self.previous_fd = signal.set_wakeup_fd(self.writer.fileno())
        self.previous_term = signal.signal(signal.SIGTERM, self._route_to_interrupt)
        self.watcher = threading.Thread(target=self._watch, daemon=True)
        self.watcher.start()
        return self

    def __exit__(self, *exc) -> None:
        self.finished.set()
        if not self.active:
            return
        signal.set_wakeup_fd(self.previous_fd)
        signal.signal(signal.SIGTERM, self.previous_term)
        self.writer.close()
        self.reader.close()

    @staticmethod
    def _route_to_interrupt(_signum, _frame) -> None:
        os.kill(os.getpid(), signal.SIGINT)

    def _watch(self) -> None:
        try:
            while not self.reader.recv(1):
                pass
        except OSError:  # closed: the run ended
            return
        if self.finished.is_set():
            return
        self.requested.set()
        self.emit("Arrêt demandé (Ctrl-C ou SIGTERM) : la campagne s'arrête…")
        if self.finished.wait(self.grace):
            return
        run_id = self.run_id()
        if run_id is not None:
            run = self.instance.get_run_by_id(run_id)
            if run is not None and not run.is_finished:
                self.instance.report_run_canceled(
                    run, "Arrêtée à la demande (Ctrl-C ou SIGTERM) pendant une attente.")
            self.instance.event_log_storage.free_concurrency_slots_for_run(run_id)
        self.emit(
            f"Campagne arrêtée : exécution {run_id or '(pas encore créée)'} marquée annulée, "
            "ses verrous libérés. Relancez la commande pour reprendre."
        )
        sys.stdout.flush()
        os._exit(130)
