"""The journal is append-only and survives a crash between sending and sealing."""

from __future__ import annotations

import datetime as dt

import polars as pl

from dagster_project.envoi import journal


def _row(i: int) -> dict:
    return {"annee": 2024, "cle": f"2024/1/ETAT/{i}", "statut": journal.ENVOYE,
            "message_id": f"<{i}@x>", "sha256": "ab" * 32,
            "horodatage": dt.datetime(2025, 3, 5, 9, i, tzinfo=dt.UTC).isoformat()}


def test_rows_of_a_crashed_run_are_sealed_by_the_next_run(tmp_path):
    envois = tmp_path / "envois"
    crashed = journal.Writer.start(envois)
    crashed.record([_row(1)])
    crashed.record([_row(2)])  # ... and the process dies before close()
    assert journal.read(envois).height == 0
    journal.Writer.start(envois).close()  # the next run
    rows = journal.read(envois)
    assert rows["message_id"].to_list() == ["<1@x>", "<2@x>"]
    assert rows.schema["horodatage"] == pl.Datetime("us", "UTC")
    assert not list((journal.journal_dir(envois) / journal.PENDING).glob("*.jsonl"))


def test_runs_only_add_parts(tmp_path):
    envois = tmp_path / "envois"
    for i in range(3):
        w = journal.Writer.start(envois)
        w.record([_row(i)])
        w.close()
    parts = sorted(p.name for p in journal.journal_dir(envois).glob("*.parquet"))
    assert len(parts) == 4 and parts[0].startswith("2025") and parts[-1] == journal.SCHEMA_FILE
    assert journal.read(envois).height == 3
