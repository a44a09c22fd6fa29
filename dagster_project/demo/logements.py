"""RPLS-like stock of one bailleur: dwellings placed on real communes, weighted by population."""

from __future__ import annotations

import numpy as np
import polars as pl

from dagster_project.demo.model import QPV_SHARE, Bailleur, communes

NB_PIECES = np.array([1, 2, 3, 4, 5, 6, 7])
P_NB_PIECES = np.array([0.12, 0.25, 0.33, 0.22, 0.055, 0.02, 0.005])
# RPLS FINAN codes by construction era (financements before 1977, then PLA, then PLUS era).
FINAN_ANCIEN = (["50", "51", "52", "53", "54", "55", "99"],
                [0.05, 0.12, 0.62, 0.1, 0.05, 0.03, 0.03])
FINAN_PLA = (["10", "11", "12", "15", "16", "17", "49"], [0.08, 0.1, 0.62, 0.03, 0.07, 0.04, 0.06])
FINAN_PLUS = (["10", "11", "13", "14", "16", "49"], [0.15, 0.08, 0.5, 0.19, 0.05, 0.03])
# What a bailleur that writes labels puts instead of the code (all in ref_financements).
LIBELLE_FINAN = {"10": "PLAI", "11": "PLA-TS", "12": "PLA", "13": "PLUS", "14": "PLS", "16": "PLI",
                 "50": "HBM", "51": "PLR", "52": "HLMO", "53": "ILM", "54": "ILN", "49": "AUTRE"}
P_HORS_ASSIETTE = {"FOYER": 0.008, "DEFENSE": 0.003}


def _footprint(b: Bailleur, rng: np.random.Generator) -> tuple[pl.DataFrame, np.ndarray]:
    """The communes where the bailleur owns dwellings, and the share of its stock in each."""
    frames, weights = [], []
    for dep, part in zip(b.departements, b.parts, strict=True):
        c = communes().filter(pl.col("departement") == dep)
        pop = c["population"].to_numpy().astype(float)
        k = int(np.clip(round((b.nb_logements * part) ** 0.5 / 3), 1, c.height))
        pick = np.sort(rng.choice(c.height, size=k, replace=False, p=pop / pop.sum()))
        frames.append(c[pick])
        weights.append(part * pop[pick] / pop[pick].sum())
    return pl.concat(frames), np.concatenate(weights)


def _construction(n: int, annee: int, rng: np.random.Generator) -> np.ndarray:
    era = rng.choice(4, size=n, p=[0.12, 0.5, 0.372, 0.008])
    years = np.select(
        [era == 0, era == 1, era == 2],
        [rng.integers(1900, 1946, n), np.clip(rng.normal(1968, 7, n).round(), 1946, 1985),
         rng.integers(1986, annee, n)],
        annee,  # mises en service of the year
    )
    return years.astype(np.int64)


def _financement(years: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    out = np.empty(len(years), dtype="<U2")
    for mask, (codes, p) in [(years < 1977, FINAN_ANCIEN),
                             ((years >= 1977) & (years < 1996), FINAN_PLA),
                             (years >= 1996, FINAN_PLUS)]:
        out[mask] = rng.choice(codes, size=int(mask.sum()), p=p)
    return out


def _qpv(foot: pl.DataFrame, idx: np.ndarray, rng: np.random.Generator):
    """QPV flag and code: QPV are concentrated in some towns, none in villages."""
    deps = foot["departement"].to_list()
    big = foot["population"].to_numpy() >= 8_000
    share = np.array([QPV_SHARE[d] for d in deps]) * rng.gamma(4.0, 0.25, foot.height) * big
    en_qpv = rng.random(len(idx)) < np.minimum(share, 0.8)[idx]
    # 1 to 3 QPV per town, coded like the 2024 geography (QN + département on 3 + rank + M)
    rank = rng.integers(0, 3, len(idx))
    base = (foot["commune_insee"].str.slice(2).cast(pl.Int64).to_numpy() * 7) % 90
    code = np.char.add(np.char.add("QN0", np.array(deps)[idx]),
                       np.char.add(np.char.zfill((base[idx] + rank + 1).astype(str), 2), "M"))
    return en_qpv, pl.Series(code).set(pl.Series(~en_qpv), None)


def generate_logements(b: Bailleur, annee: int, rng: np.random.Generator) -> pl.DataFrame:
    """The bailleur's whole stock with the contract columns, plus the commune's territories
    (``departement``, ``commune_parent``, ``epci_siren``, ``ept_siren``) for the generator."""
    n = b.nb_logements
    foot, w = _footprint(b, rng)
    idx = rng.choice(foot.height, size=n, p=w / w.sum())
    insee = foot["commune_insee"].to_numpy()[idx]
    paris = np.char.startswith(insee.astype(str), "751")
    paris_75056 = paris & (rng.random(n) < b.part_paris_75056)
    en_qpv, qpv_code = _qpv(foot, idx, rng)
    years = _construction(n, annee, rng)
    finan = _financement(years, rng)
    finan = pl.Series(finan)
    if b.libelles_financement:
        finan = finan.replace(LIBELLE_FINAN)
    motif = rng.choice(["", *P_HORS_ASSIETTE], size=n,
                       p=[1 - sum(P_HORS_ASSIETTE.values()), *P_HORS_ASSIETTE.values()])
    seq = pl.Series(np.arange(n))
    ids = (f"{b.siren[:3]}-" + seq.cast(pl.String).str.zfill(6) if b.index % 2
           else "LGT" + (seq + 100_001).cast(pl.String))
    # RPLS ids: an affine bijection of the row number, unique and random-looking
    rpls = ((seq * 7_919_731 + int(b.siren)) % 10**10).cast(pl.String).str.zfill(10)
    return pl.DataFrame({
        "logement_id": ids,
        "rpls_id": rpls,
        "commune_insee": np.where(paris_75056, "75056", insee),
        "qpv": en_qpv,
        "qpv_code": qpv_code,
        "nb_pieces": rng.choice(NB_PIECES, size=n, p=P_NB_PIECES),
        "financement": finan,
        "annee_construction": years,
        "hors_assiette": pl.Series(motif).replace("", None),
    }).with_columns(foot.select("departement", "commune_parent", "epci_siren", "ept_siren")[idx])
