"""Scale and territory model of the demo campaign: how many bailleurs, how big, where.

Everything random is drawn from numpy generators seeded from the campaign seed, and every
collection is iterated in a fixed order, so one seed always gives the same campaign.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import Enum
from functools import cache

import numpy as np
import polars as pl

from dagster_project.reference import load_seed

# Rough share of the Île-de-France social stock per département: where bailleurs are based.
STOCK_SHARE = {
    "75": 0.20, "77": 0.07, "78": 0.09, "91": 0.09, "92": 0.16, "93": 0.18, "94": 0.13, "95": 0.08,
}
# Share of the stock in a QPV, per département (2024 geography, rounded).
QPV_SHARE = {
    "75": 0.12, "77": 0.14, "78": 0.13, "91": 0.17, "92": 0.11, "93": 0.31, "94": 0.17, "95": 0.20,
}


class Forme(Enum):
    """The three forms of the format d'échange the demo exercises."""

    XLSX = "xlsx"  # one workbook, French headers, real Excel dates
    CSV_CP1252 = "csv-cp1252"  # four `;` CSVs, Windows-1252, RPLS aliases, dd/mm/yyyy
    CSV_BOM = "csv-bom"  # four `,` CSVs, UTF-8 with BOM, canonical headers, ISO dates


@dataclass(frozen=True)
class Scale:
    """Sizes of a demo campaign; ``idf2`` is ``idf`` doubled for the linearity benchmark."""

    nom: str
    nb_bailleurs: int
    nb_logements: int
    nb_grands: int  # the large bailleurs, written first
    taille_grands: tuple[int, int]  # their stock, drawn uniformly in this range
    # relocations in a year / stock: with the year's new buildings and ~1.25 tours per
    # vacancy, about 100,000 tours for the 1.3 million dwellings of Île-de-France
    taux_rotation: float = 0.055
    max_lignes_xlsx: int = 15_000  # larger bailleurs are written as CSV (openpyxl is slow)

    def fois(self, k: int) -> Scale:
        return replace(
            self, nom=f"{self.nom}x{k}", nb_bailleurs=self.nb_bailleurs * k,
            nb_logements=self.nb_logements * k, nb_grands=self.nb_grands * k,
        )


# idf: « près de 150 organismes » in Île-de-France (DRIHL/AORIF), a dozen large ones holding
# about two thirds of the 1.3 million dwellings, most of the others small. fr: the whole
# country for the scaling benchmark (docs/scaling.md), 5 × idf's dwellings and tours.
SCALES = {
    "demo": Scale("demo", nb_bailleurs=12, nb_logements=40_000, nb_grands=2,
                  taille_grands=(8_000, 12_000)),
    "idf": Scale("idf", nb_bailleurs=150, nb_logements=1_300_000, nb_grands=10,
                 taille_grands=(50_000, 130_000), max_lignes_xlsx=5_000),
    "fr": Scale("fr", nb_bailleurs=500, nb_logements=6_500_000, nb_grands=40,
                taille_grands=(50_000, 150_000), max_lignes_xlsx=5_000),
}
SCALES["idf2"] = replace(SCALES["idf"].fois(2), nom="idf2")


@dataclass(frozen=True)
class Bailleur:
    index: int
    siren: str
    nb_logements: int
    departements: tuple[str, ...]  # home territory, main département first
    parts: tuple[float, ...]  # share of the stock in each département
    forme: Forme
    part_paris_75056: float  # share of Paris dwellings coded 75056 rather than 751xx
    libelles_financement: bool  # writes PLAI/PLUS/HLMO… instead of RPLS codes where it can
    typologie_en_libelle: bool  # gives `typologie` (T3, T5+) instead of `nb_pieces`


def luhn_complete(prefix: str) -> str:
    """``prefix`` followed by the digit that makes it Luhn-valid, as real SIRENs are."""
    total = 0
    for i, ch in enumerate(reversed(prefix)):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return prefix + str((10 - total % 10) % 10)


@cache
def communes() -> pl.DataFrame:
    """Communes where dwellings are placed: Paris by arrondissement, never the 75056 row."""
    return (
        load_seed("ref_communes")
        .filter(pl.col("commune_insee") != "75056")
        .with_columns(pl.col("population").cast(pl.Int64))
        .sort("commune_insee")
    )


def _sizes(scale: Scale, rng: np.random.Generator) -> np.ndarray:
    lo, hi = scale.taille_grands
    grands = rng.integers(lo, hi + 1, size=scale.nb_grands)
    nb_petits = scale.nb_bailleurs - scale.nb_grands
    reste = max(scale.nb_logements - int(grands.sum()), nb_petits * 150)
    poids = rng.lognormal(0.0, 1.0, size=nb_petits)
    petits = reste * poids / poids.sum()
    for _ in range(20):  # small ones stay smaller than the large ones: spread the excess
        over = petits > lo - 1
        if not over.any():
            break
        excess = (petits[over] - (lo - 1)).sum()
        petits[over] = lo - 1
        petits[~over] += excess * petits[~over] / petits[~over].sum()
    petits = np.maximum(150, petits).astype(np.int64)
    return np.concatenate([np.sort(grands)[::-1], np.sort(petits)[::-1]])


def _departements(n: int, grand: bool, rng: np.random.Generator, home: str | None):
    deps = sorted(STOCK_SHARE)
    p = np.array([STOCK_SHARE[d] for d in deps])
    k = 3 if grand else (2 if n > 5_000 or rng.random() < 0.3 else 1)
    chosen = [str(d) for d in rng.choice(deps, size=k, replace=False, p=p)]
    if home is not None:
        chosen = [home] + [d for d in chosen if d != home][: k - 1]
    main = rng.uniform(0.5, 0.85) if k > 1 else 1.0
    rest = rng.uniform(0.5, 1.5, k - 1)
    return tuple(chosen), (main, *(float(x) for x in rest / rest.sum() * (1 - main)))


def _formes(sizes: np.ndarray, scale: Scale) -> list[Forme]:
    cycle = [Forme.XLSX, Forme.CSV_CP1252, Forme.CSV_BOM]
    formes = []
    for i, n in enumerate(sizes):
        f = cycle[i % 3]
        if f is Forme.XLSX and n > scale.max_lignes_xlsx:
            f = cycle[1 + (i // 3) % 2]
        formes.append(f)
    return formes


def plan_bailleurs(scale: Scale, seed: int) -> list[Bailleur]:
    """The campaign's bailleurs, largest first; the two largest are based in Paris and in
    Seine-Saint-Denis (as the large OPH are), so that even the small scale has both."""
    rng = np.random.default_rng([seed, 0])
    sizes = _sizes(scale, rng)
    sirens: list[str] = []
    while len(sirens) < len(sizes):
        # OPH are public bodies (SIREN 2…), ESH are companies (3…, 4…, 5…, 7…)
        first = str(rng.choice(["2", "3", "4", "5", "7"]))
        siren = luhn_complete(first + "".join(str(d) for d in rng.integers(0, 10, size=7)))
        if siren not in sirens:
            sirens.append(siren)
    bailleurs = []
    for i, (n, forme) in enumerate(zip(sizes, _formes(sizes, scale), strict=True)):
        home = ("75", "93")[i] if i < 2 else None
        deps, parts = _departements(int(n), i < scale.nb_grands, rng, home)
        bailleurs.append(Bailleur(
            index=i, siren=sirens[i], nb_logements=int(n), departements=deps, parts=parts,
            forme=forme, part_paris_75056=(0.2, 0.0, 1.0)[i % 3],
            libelles_financement=i % 4 == 1, typologie_en_libelle=i % 5 == 3,
        ))
    return bailleurs


def bailleur_rng(seed: int, bailleur: Bailleur) -> np.random.Generator:
    """One independent stream per bailleur: its data do not depend on the others'."""
    return np.random.default_rng([seed, 1, bailleur.index])
