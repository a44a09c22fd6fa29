"""A year of tours de commercialisation for one bailleur, simulated vacancy by vacancy.

All vacancies advance together, one rank per step (numpy), so a bailleur of 150,000 dwellings
costs a handful of vectorised steps. Days are counted from 1 January of year N.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl

from dagster_project.demo.conventions import coverage
from dagster_project.demo.model import Scale

ISSUES = ["ATTRIBUE", "ECHEC_CARENCE", "ECHEC_REFUS_CANDIDAT", "ECHEC_REFUS_CALEOL",
          "ECHEC_AUTRE", "EN_COURS"]
ATTRIBUE, CARENCE, REFUS_CANDIDAT, EN_COURS = 0, 1, 2, 5
# Outcome probabilities (ISSUES order, EN_COURS excluded: it comes from the year's end) by
# destination kind: réservataire at rank 1, bailleur, hors flux, réservataire at rank ≥ 2.
P_ISSUE = np.array([
    [0.75, 0.10, 0.09, 0.04, 0.02],
    [0.80, 0.02, 0.11, 0.05, 0.02],
    [0.85, 0.03, 0.08, 0.02, 0.02],
    [0.80, 0.08, 0.07, 0.03, 0.02],
])
# Days from orientation to outcome, per outcome: [min, max].
DUREE = np.array([[7, 56], [21, 35], [10, 42], [14, 42], [7, 60]])
CATEGORIES = ["MUTATION_INTERNE", "RENOUVELLEMENT_URBAIN", "COPRO_DEGRADEE", "HABITAT_INDIGNE",
              "VENTE_HLM", "AUTRE"]
P_CATEGORIE = [0.55, 0.15, 0.05, 0.08, 0.07, 0.10]
P_HORS_FLUX = 0.10
MAX_RANG = 5
HORS_FLUX, BAILLEUR = -1, 0  # destination codes; réservataires are 1..k


def _destination_table(logements: pl.DataFrame, conventions: pl.DataFrame):
    """Destinations (BAILLEUR first) and, per commune, the cumulative chance of each one."""
    cov = coverage(logements, conventions)
    codes = ["BAILLEUR", *sorted(set(cov["reservataire_code"]))]
    places = sorted(set(logements["commune_parent"]))
    p = np.zeros((len(places), len(codes)))
    row, col = {c: i for i, c in enumerate(places)}, {c: i for i, c in enumerate(codes)}
    for commune, code, taux in cov.iter_rows():
        p[row[commune], col[code]] += taux / 100
    p[:, 0] = 1 - p.sum(axis=1)  # the non-reserved share
    return codes, row, np.cumsum(p, axis=1)


def _draw(cum: np.ndarray, rows: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    u = rng.random(len(rows))
    return np.minimum((u[:, None] >= cum[rows]).sum(axis=1), cum.shape[1] - 1)


def generate_tours(logements: pl.DataFrame, conventions: pl.DataFrame, annee: int, scale: Scale,
                   rng: np.random.Generator) -> pl.DataFrame:
    fin = (date(annee, 12, 31) - date(annee, 1, 1)).days
    neuf = logements["annee_construction"].to_numpy() == annee
    ancien = np.flatnonzero(~neuf)
    relocations = rng.choice(ancien, size=rng.binomial(len(ancien), scale.taux_rotation),
                             replace=False)
    vac = np.union1d(relocations, np.flatnonzero(neuf))  # every new building is let in N
    n = len(vac)
    codes, row, cum = _destination_table(logements, conventions)
    commune = np.array([row[c] for c in logements["commune_parent"].to_numpy()[vac]])
    hors_assiette = logements["hors_assiette"].is_not_null().to_numpy()[vac]

    # state of every vacancy at the current rank
    orient = np.where(neuf[vac], rng.integers(0, fin - 30, n), rng.integers(-31, fin + 1, n))
    dest = np.where(hors_assiette, BAILLEUR, _draw(cum, commune, rng))
    hf = (rng.random(n) < P_HORS_FLUX) & ~hors_assiette
    dest[hf] = HORS_FLUX
    cat = np.where(hf, rng.choice(len(CATEGORIES), n, p=P_CATEGORIE), -1)
    alive = np.ones(n, dtype=bool)
    out: list[tuple[np.ndarray, ...]] = []
    for rang in range(1, MAX_RANG + 1):
        i = np.flatnonzero(alive)
        kind = np.select([dest[i] == BAILLEUR, dest[i] == HORS_FLUX], [1, 2], 0 if rang == 1 else 3)
        p = np.cumsum(P_ISSUE, axis=1)[kind]
        issue = np.minimum((rng.random(len(i))[:, None] >= p).sum(axis=1), 4)
        if rang == MAX_RANG:
            issue[:] = ATTRIBUE
        jour_issue = orient[i] + rng.integers(DUREE[issue, 0], DUREE[issue, 1] + 1)
        issue = np.where(jour_issue > fin, EN_COURS, issue)
        out.append((i, np.full(len(i), rang), orient[i], dest[i], cat[i], issue, jour_issue))

        # the next tour of the failed vacancies, if it starts before the year's end
        suite = (issue != ATTRIBUE) & (issue != EN_COURS)
        prochain = jour_issue + rng.integers(1, 15, len(i))
        suite &= prochain <= fin
        alive[:] = False
        alive[i[suite]] = True
        orient[i] = prochain
        reste = rng.random(len(i))
        was_res = dest[i] > 0
        fresh = _draw(cum, commune[i], rng)
        nxt = np.select(
            [hors_assiette[i],
             (dest[i] == HORS_FLUX) & (reste < 0.5),
             was_res & (issue == CARENCE) & (reste < 0.7),  # reprise by the bailleur
             was_res & (issue == REFUS_CANDIDAT) & (reste < 0.6),  # same réservataire again
             (dest[i] == BAILLEUR) & (reste < 0.7)],
            [BAILLEUR, HORS_FLUX, BAILLEUR, dest[i], BAILLEUR],
            fresh,
        )
        cat[i] = np.where(nxt == HORS_FLUX, cat[i], -1)
        dest[i] = nxt

    v, rang, jo, d, c, iss, ji = (np.concatenate(col) for col in zip(*out, strict=True))
    ji = np.where(iss == EN_COURS, np.iinfo(np.int64).min, ji)
    # only vacancies with an event in year N are reported
    dernier = np.full(n, np.iinfo(np.int64).min)
    np.maximum.at(dernier, v, np.maximum(jo, ji))
    keep = dernier[v] >= 0
    order = np.lexsort((rang[keep], v[keep]))
    v, rang, jo, d, c, iss, ji = (a[keep][order] for a in (v, rang, jo, d, c, iss, ji))
    en_cours = iss == EN_COURS
    epoch = (date(annee, 1, 1) - date(1970, 1, 1)).days
    bail = ji + rng.integers(5, 31, len(ji))

    def as_date(days: np.ndarray, valid: np.ndarray) -> pl.Series:
        return pl.Series(np.where(valid, days + epoch, 0), dtype=pl.Int32).cast(pl.Date).set(
            pl.Series(~valid), None)

    def lookup(values: list[str | None], index: np.ndarray) -> pl.Series:
        return pl.Series(values, dtype=pl.String).gather(index)

    candidats = np.where(iss == CARENCE, 0, rng.choice([1, 2, 3], len(v), p=[0.1, 0.2, 0.7]))
    return pl.DataFrame({
        "logement_id": logements["logement_id"].gather(vac[v]),
        "numero_tour": rang,
        "date_orientation": as_date(jo, np.ones(len(v), dtype=bool)),
        "destinataire": lookup(["HORS_FLUX", *codes], d + 1),
        "categorie_operation": lookup([None, *CATEGORIES], c + 1),
        "issue": lookup(ISSUES, iss),
        "date_issue": as_date(ji, ~en_cours),
        "origine": lookup(["RELOCATION", "MISE_EN_SERVICE"], neuf[vac[v]].astype(np.int64)),
        "nb_candidats": pl.Series(candidats).set(pl.Series(en_cours), None),
        "date_bail": as_date(bail, (iss == ATTRIBUE) & (bail <= fin)),
    })


def generate_previsionnel(logements: pl.DataFrame, tours: pl.DataFrame, departements,
                          annee: int, rng: np.random.Generator) -> pl.DataFrame:
    """Forecast for N+1 by département × catégorie: about this year's subtracted dwellings."""
    soustraits = (
        tours.filter((pl.col("numero_tour") == 1) & (pl.col("destinataire") == "HORS_FLUX")
                     & (pl.col("date_orientation").dt.year() == annee))
        .join(logements.select("logement_id", "departement"), on="logement_id")
        .group_by("departement", "categorie_operation").len()
    )
    counts = {(d, c): n for d, c, n in soustraits.iter_rows()}
    grid = [(d, c) for d in departements for c in CATEGORIES]
    base = np.array([counts.get(k, 0) for k in grid], dtype=float)
    prevus = rng.poisson(base * rng.uniform(0.8, 1.25, len(grid)) + 0.5)
    comment = "prévision établie en janvier" if rng.random() < 0.5 else None
    return pl.DataFrame({
        "departement": [d for d, _ in grid],
        "categorie_operation": [c for _, c in grid],
        "nb_logements_prevus": prevus.astype(np.int64),
        "commentaire": pl.Series([comment] * len(grid), dtype=pl.String),
    })
