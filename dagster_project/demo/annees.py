"""The demo over several bilan years: the same dwellings, conventions that evolve, and two
stories of a real second campaign.

- The stock and the conventions are drawn once, for the demo's first year (``PREMIERE_ANNEE``):
  a later year reuses the same dwellings (same ids, same communes) plus its mises en service
  (``mises_en_service``), and conventions renegotiated (``evolve_conventions``); its tours and
  prévisionnel are drawn anew, from a stream of their own, so that generating 2025 never
  changes the 2024 files.
- The bailleur based in Seine-Saint-Denis writes, in its bilan 2024, the former code of
  Pierrefitte-sur-Seine (93059, merged into Saint-Denis 93066 on 1 January 2025) for part of
  its Saint-Denis dwellings, as an RPLS extract of 2024 does; from 2025 on they carry 93066.
- A bailleur created in 2025 (``nouveau_bailleur``) sends its first bilan for 2025: it has no
  N-1, so its trames show no évolution. It is not in the demo's ``ref_bailleurs`` (a reference
  has no years: listing it would show it absent from the 2024 campaign): the 2025 tracking
  shows it « non référencé », the regional team's cue to add it.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import polars as pl

from dagster_project.demo.logements import FINAN_PLUS, LIBELLE_FINAN
from dagster_project.demo.model import Bailleur, Forme, Scale, luhn_complete, plan_bailleurs

PREMIERE_ANNEE = 2024
NOUVEAU_EN = 2025
# Pierrefitte-sur-Seine, merged into Saint-Denis on 1 January 2025 (ref_communes_historiques).
ANCIEN_CODE, COMMUNE_ACTUELLE, DERNIERE_ANNEE_ANCIEN_CODE = "93059", "93066", 2024
HOME_93 = 1  # plan_bailleurs bases its second bailleur in Seine-Saint-Denis
ALS = "ALS"
BAISSE_ALS = 2.5  # Action Logement's rate renegotiated down (never above a cap that held)
TAUX_MISE_EN_SERVICE = 0.008  # new dwellings a year / stock


def year_rng(seed: int, b: Bailleur, annee: int) -> np.random.Generator:
    """The stream of one bailleur's tours and prévisionnel of a year after its first."""
    return np.random.default_rng([seed, 3, b.index, annee])


def nouveau_bailleur(scale: Scale, seed: int) -> Bailleur:
    """The bailleur created in ``NOUVEAU_EN``: as small as the smallest, in the Hauts-de-Seine,
    with a SIREN of its own."""
    bailleurs = plan_bailleurs(scale, seed)
    taken = {b.siren for b in bailleurs}
    rng = np.random.default_rng([seed, 4])
    siren = next(s for s in (luhn_complete("4" + "".join(map(str, rng.integers(0, 10, 7))))
                             for _ in range(1000)) if s not in taken)
    return replace(bailleurs[-1], index=len(bailleurs), siren=siren, departements=("92",),
                   parts=(1.0,), forme=Forme.CSV_BOM)


def bailleurs_of_year(scale: Scale, seed: int, annee: int) -> list[Bailleur]:
    """The bailleurs that send a bilan ``annee``."""
    bailleurs = plan_bailleurs(scale, seed)
    return [*bailleurs, nouveau_bailleur(scale, seed)] if annee >= NOUVEAU_EN else bailleurs


def first_year(b: Bailleur, scale: Scale, seed: int) -> int:
    """The year the bailleur's stock and conventions are drawn for."""
    return NOUVEAU_EN if b.index >= scale.nb_bailleurs else PREMIERE_ANNEE


def mises_en_service(logements: pl.DataFrame, b: Bailleur, annee: int,
                     rng: np.random.Generator) -> pl.DataFrame:
    """The stock of a later year: the same dwellings plus those built in ``annee``, placed
    where the bailleur already owns (a sample of its dwellings' places)."""
    n = max(1, round(TAUX_MISE_EN_SERVICE * logements.height))
    places = logements[np.sort(rng.choice(logements.height, size=n, replace=False))]
    codes, p = FINAN_PLUS
    finan = pl.Series(rng.choice(codes, size=n, p=p))
    if b.libelles_financement:
        finan = finan.replace(LIBELLE_FINAN)
    seq = pl.Series(np.arange(logements.height, logements.height + n))
    new = places.with_columns(
        logement_id=pl.lit(f"{b.siren[:3]}-{annee}-") + seq.cast(pl.String).str.zfill(6),
        rpls_id=((seq * 7_919_731 + int(b.siren)) % 10**10).cast(pl.String).str.zfill(10),
        financement=finan,
        annee_construction=pl.lit(annee, dtype=logements.schema["annee_construction"]),
        hors_assiette=pl.lit(None, dtype=logements.schema["hors_assiette"]),
    )
    return pl.concat([logements, new])


def evolve_conventions(conventions: pl.DataFrame, b: Bailleur) -> pl.DataFrame:
    """A year later: Action Logement's rate in the bailleur's main département goes down, and
    its last commune convention has ended (the commune no longer reserves)."""
    main = b.departements[0]
    als = (pl.col("reservataire_code") == ALS) & (pl.col("perimetre_code") == main)
    out = conventions.with_columns(
        taux_flux=pl.when(als & (pl.col("taux_flux") > BAISSE_ALS))
        .then(pl.col("taux_flux") - BAISSE_ALS).otherwise(pl.col("taux_flux")))
    communes = out.filter(pl.col("perimetre_type") == "COMMUNE")
    if communes.height > 1:  # keep one: the réservataire trames keep a commune's case
        last = communes.row(-1, named=True)
        out = out.filter(~((pl.col("reservataire_code") == last["reservataire_code"])
                           & (pl.col("perimetre_code") == last["perimetre_code"])))
    return out


def as_dropped(logements: pl.DataFrame, b: Bailleur, annee: int) -> pl.DataFrame:
    """The dwellings as the bailleur's file of ``annee`` writes them: the Seine-Saint-Denis
    bailleur's 2024 file carries 93059 for one Saint-Denis dwelling in four (those of old
    Pierrefitte)."""
    if b.index != HOME_93 or annee > DERNIERE_ANNEE_ANCIEN_CODE:
        return logements
    saint_denis = pl.col("commune_insee") == COMMUNE_ACTUELLE
    rank = pl.int_range(pl.len()).over(saint_denis)
    return logements.with_columns(
        commune_insee=pl.when(saint_denis & (rank % 4 == 0)).then(pl.lit(ANCIEN_CODE))
        .otherwise(pl.col("commune_insee")))
