"""The demo's two waves and the drop dates the product records (not the files' mtimes)."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import pytest

from dagster_project.demo import DossierRefuse, Scale, generate_campaign
from dagster_project.demo.model import plan_bailleurs
from dagster_project.demo.referentiel import referentiel, retardataires
from dagster_project.ingest import apparitions
from dagster_project.ingest.pipeline import ingest_partitions, discover_partitions
from dagster_project.ingest.store import read_registry

MINI = Scale("mini", nb_bailleurs=4, nb_logements=2_000, nb_grands=1, taille_grands=(800, 900))


def _contents(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_two_waves_write_the_whole_campaign_and_the_reference_expects_one_more(tmp_path):
    generate_campaign(tmp_path / "all", MINI, seed=3)
    generate_campaign(tmp_path / "waves", MINI, seed=3, vague="a-l-heure")
    late = retardataires(plan_bailleurs(MINI, 3))
    assert len(late) == 1
    assert not (tmp_path / "waves" / late[0].siren).exists()
    generate_campaign(tmp_path / "waves", MINI, seed=3, vague="retard")
    assert _contents(tmp_path / "waves") == _contents(tmp_path / "all")
    ref = referentiel(MINI, 3)
    generated = {b.siren for b in plan_bailleurs(MINI, 3)}
    assert ref.height == len(generated) + 1 and generated < set(ref["bailleur_siren"])
    with pytest.raises(DossierRefuse):
        generate_campaign(tmp_path / "empty", MINI, seed=3, vague="retard")


def test_drop_date_is_first_appearance_not_mtime(workspace, monkeypatch):
    generate_campaign(workspace.landing, MINI, seed=3)
    files = sorted(p for p in workspace.landing.rglob("*.csv"))
    first = files[0]
    os.utime(first, (0, 0))  # a copy can fake the mtime: 1970
    monkeypatch.setenv("FLUX_HORLOGE", "2025-02-20T10:00:00")
    seen = apparitions.record(workspace.apparitions, [(first.name, "a" * 64)])
    assert seen == {"a" * 64: datetime(2025, 2, 20, 10)}
    # seen again later (another name, same content): the first date stays
    monkeypatch.setenv("FLUX_HORLOGE", "2025-03-20T10:00:00")
    assert apparitions.record(workspace.apparitions, [("copie.csv", "a" * 64)]) == seen
    ingest_partitions(workspace, discover_partitions(workspace.landing), run_id="t")
    registry = read_registry(workspace.raw_store)
    assert set(registry["apparu_le"]) == {datetime(2025, 3, 20, 10)}  # ingestion's clock
    assert datetime(1970, 1, 1) in set(registry["depose_le"])  # the mtime, kept for ordering


def test_the_observer_dates_settled_files_only(workspace, monkeypatch, capsys):
    from dagster_project.suivi.__main__ import main

    generate_campaign(workspace.landing, MINI, seed=3, vague="a-l-heure")
    monkeypatch.setenv("FLUX_HORLOGE", "2025-02-20T10:00:00")
    monkeypatch.setenv("FLUX_LANDING_SETTLE_SECONDS", "3600")  # everything is "being written"
    assert main(["observer"]) == 0
    assert "en cours d'écriture" in capsys.readouterr().out
    assert not workspace.apparitions.exists()
    monkeypatch.setenv("FLUX_LANDING_SETTLE_SECONDS", "0")
    assert main(["observer"]) == 0
    files = [p for p in workspace.landing.rglob("*") if p.is_file() and not p.name.startswith(".")]
    from dagster_project.atomic import sha256_of
    assert {apparitions.first_seen(workspace.apparitions, sha256_of(f)) for f in files} == {
        datetime(2025, 2, 20, 10)}
