"""Build a whole demo campaign and write it into its own folder, and nowhere else.

The output folder is marked with ``.demo-campagne``, which lists the files written. The
generator only writes into a folder that is empty, or marked and holding nothing but its own
files: it never mixes with, overwrites or deletes a file somebody else dropped.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from dagster_project.demo.annees import (
    PREMIERE_ANNEE,
    as_dropped,
    bailleurs_of_year,
    evolve_conventions,
    first_year,
    mises_en_service,
    year_rng,
)
from dagster_project.demo.conventions import generate_conventions
from dagster_project.demo.logements import generate_logements
from dagster_project.demo.model import Bailleur, Scale, bailleur_rng, plan_bailleurs
from dagster_project.demo.referentiel import retardataires
from dagster_project.demo.tours import generate_previsionnel, generate_tours
from dagster_project.demo.writers import file_names, write_bailleur

MARKER = ".demo-campagne"
IGNORED = {".gitkeep"}  # the landing folder of a fresh clone holds one
DEFAULT_SEED = 2024
# Which bailleurs a call writes: all of them, those on time only, or the late ones only (added
# to an earlier "a-l-heure" output: `make run` lets the product see the two waves apart).
VAGUES = ("toutes", "a-l-heure", "retard")


class DossierRefuse(Exception):
    """The output folder holds files the generator did not write."""


@dataclass(frozen=True)
class DonneesBailleur:
    """One bailleur's sheets, with canonical column names (plus internal ones)."""

    bailleur: Bailleur
    logements: pl.DataFrame
    tours: pl.DataFrame
    conventions: pl.DataFrame
    previsionnel: pl.DataFrame


@dataclass
class Resume:
    sirens: set[str] = field(default_factory=set)
    nb_logements: int = 0
    nb_tours: int = 0
    formes: Counter = field(default_factory=Counter)

    def __str__(self) -> str:
        formes = ", ".join(f"{f.value} : {n}" for f, n in sorted(self.formes.items(),
                                                                  key=lambda x: x[0].value))
        logements, tours = (f"{n:,}".replace(",", "\u202f") for n in (self.nb_logements,
                                                                      self.nb_tours))
        return f"{self.nb_bailleurs} bailleurs, {logements} logements, {tours} tours ({formes})"

    @property
    def nb_bailleurs(self) -> int:
        return len(self.sirens)


def build_bailleur(b: Bailleur, scale: Scale, seed: int, annee: int) -> DonneesBailleur:
    """One bailleur's year; after its first year (demo/annees.py), the same dwellings and its
    conventions renegotiated, with tours drawn from the year's own stream."""
    rng = bailleur_rng(seed, b)
    base = annee if annee <= PREMIERE_ANNEE else min(annee, first_year(b, scale, seed))
    logements = generate_logements(b, base, rng)
    conventions = generate_conventions(b, logements, base, rng)
    if annee != base:
        rng = year_rng(seed, b, annee)
        for year in range(base + 1, annee + 1):
            logements = mises_en_service(logements, b, year, rng)
            conventions = evolve_conventions(conventions, b)
    tours = generate_tours(logements, conventions, annee, scale, rng)
    previsionnel = generate_previsionnel(logements, tours, b.departements, annee, rng)
    return DonneesBailleur(b, logements, tours, conventions, previsionnel)


def build_campaign(scale: Scale, seed: int = DEFAULT_SEED, annee: int = 2024
                   ) -> Iterator[DonneesBailleur]:
    """The campaign in memory, one bailleur at a time (an idf2 campaign does not fit at once)."""
    for b in bailleurs_of_year(scale, seed, annee):
        yield build_bailleur(b, scale, seed, annee)


def prepare_output(out: Path) -> None:
    """Empty ``out`` of the generator's previous output; refuse if it holds anything else."""
    if out.exists() and not out.is_dir():
        raise DossierRefuse(f"« {out} » existe et n'est pas un dossier.")
    marker = out / MARKER
    owned = set(json.loads(marker.read_text("utf-8"))["fichiers"]) if marker.is_file() else set()
    present = sorted(p.relative_to(out).as_posix() for p in out.rglob("*")
                     if not p.is_dir() and p != marker and p.name not in IGNORED)
    foreign = [p for p in present if p not in owned]
    if foreign:
        raise DossierRefuse(
            f"Le dossier « {out} » contient {len(foreign)} fichier(s) que le générateur de "
            f"démonstration n'a pas créé(s) (par exemple « {foreign[0]} ») : il n'y écrit pas, "
            "pour ne jamais mélanger ni écraser de vrais fichiers. Choisissez un dossier vide."
        )
    for rel in present:
        (out / rel).unlink()
    for d in sorted((p for p in out.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts)):
        if not any(d.iterdir()):
            d.rmdir()


def generate_campaign(out: Path, scale: Scale, seed: int = DEFAULT_SEED,
                      annee: int | tuple[int, ...] = 2024, vague: str = "toutes",
                      ajout: bool = False) -> Resume:
    """Write the demo campaign of ``annee`` (one year, or several side by side) into ``out``
    (see ``prepare_output``) and summarise it.

    ``ajout`` (implied by ``vague="retard"``) adds files to the generator's own folder instead
    of replacing its content: `make run` writes the years and their waves one after the other."""
    out = Path(out)
    annees = (annee,) if isinstance(annee, int) else tuple(annee)
    late = {b.siren for b in retardataires(plan_bailleurs(scale, seed))}
    marker = out / MARKER
    files = sorted(name for a in annees for b in bailleurs_of_year(scale, seed, a)
                   for name in file_names(b, a))
    if ajout or vague == "retard":
        if not marker.is_file():
            raise DossierRefuse(f"« {out} » n'est pas une sortie du générateur : lancez d'abord "
                                "la vague « a-l-heure ».")
        meta = json.loads(marker.read_text("utf-8"))
        meta["annees"] = sorted({*meta.get("annees", [meta.get("annee")]), *annees})
        meta["fichiers"] = sorted({*meta["fichiers"], *files})
    else:
        prepare_output(out)
        out.mkdir(parents=True, exist_ok=True)
        meta = {"generateur": "python -m dagster_project.demo", "echelle": scale.nom,
                "graine": seed, "annee": annees[0], "annees": list(annees), "fichiers": files}
    # the marker is written first, so that an interrupted run can still be cleaned up
    marker.write_text(json.dumps(meta, ensure_ascii=False, indent=1) + "\n", "utf-8")
    wanted = {"toutes": lambda b: True, "a-l-heure": lambda b: b.siren not in late,
              "retard": lambda b: b.siren in late}[vague]
    resume = Resume()
    for a in annees:
        for b in filter(wanted, bailleurs_of_year(scale, seed, a)):
            data = build_bailleur(b, scale, seed, a)
            write_bailleur(out, b, a, {"logements": as_dropped(data.logements, b, a),
                                       "tours": data.tours, "conventions": data.conventions,
                                       "previsionnel": data.previsionnel})
            resume.sirens.add(b.siren)
            resume.nb_logements += data.logements.height
            resume.nb_tours += data.tours.height
            resume.formes[b.forme] += 1
    return resume
