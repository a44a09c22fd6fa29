"""The same bytes dropped at several places: each drop gets its own verdict.

The earliest drop of a content (order: drop time, then path) is its original. A later drop of
the same bytes under another bailleur's SIREN is an error (one file cannot be the bilan of two
bailleurs); under the same SIREN it is a warning (a harmless copy, e.g. ``… (1).xlsx``).
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from dagster_project.ingest.dropped import DroppedFile
from dagster_project.ingest.naming import SUPPORTED_EXTENSIONS


@dataclass(frozen=True)
class EarlierDrop:
    chemin: str
    siren: str

    def rule(self, siren: str | None) -> dict:
        if siren != self.siren:
            return {"regle": "FICHIER_COPIE_AUTRE_BAILLEUR", "valeur": self.chemin, "detail": self.siren}
        return {"regle": "FICHIER_COPIE", "valeur": self.chemin}


def earlier_drops(registry: pl.DataFrame, peers: list[DroppedFile]) -> dict[str, EarlierDrop]:
    """Per file version of ``peers``: the earliest other drop of the same content that could be
    a bilan (its name has a SIREN, a year and a supported extension)."""
    name = pl.col("nom_fichier").str.to_lowercase()
    stored = registry.filter(pl.col("bailleur_siren").is_not_null() & pl.col("annee").is_not_null()
                             & pl.any_horizontal(name.str.ends_with(e) for e in SUPPORTED_EXTENSIONS))
    drops = [((r["depose_le"], r["chemin"]), r["version"], r["sha256"], r["chemin"], r["bailleur_siren"])
             for r in stored.iter_rows(named=True)]
    drops += [(f.order, f.version, f.sha256, f.chemin, f.name.siren) for f in peers
              if f.name.identified and f.refused is None and f.name.extension in SUPPORTED_EXTENSIONS]
    first: dict[str, tuple] = {}
    for drop in sorted(drops, key=lambda d: d[0]):
        first.setdefault(drop[2], drop)
    out = {}
    for f in peers:
        if not f.name.identified:
            continue
        original = first.get(f.sha256)
        if original is not None and original[1] != f.version and original[0] <= f.order:
            out[f.version] = EarlierDrop(original[3], original[4])
    return out
