"""What one bailleur's trames are made of, as one digest.

A bailleur's trames depend only on its own mart rows (isolation, domain rule 11), the options,
the trames code and the reference seeds (labels and orders of the categories). When the digest recorded in the manifest for its trames is unchanged, an
incremental run reuses them without building their report models: after a re-drop, one
bailleur's reports are rebuilt, not the whole region's (≈ 5 s for 3 700 trames at idf scale).
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

from dagster_project.settings import SEEDS_DIR
from dagster_project.trames.loader import BailleurMarts
from dagster_project.trames.model import TEMPLATE_VERSION
from dagster_project.trames.options import Options

CODE = Path(__file__).parent


def digested_files() -> list[Path]:
    """What every trame is built from besides its rows: the trames code and the seeds."""
    return [*sorted(CODE.glob("*.py")), *sorted(SEEDS_DIR.glob("*.csv"))]


@cache
def code_digest() -> str:
    """A change to a builder or to a seed's label invalidates every digest."""
    digest = hashlib.sha256(TEMPLATE_VERSION.encode())
    for source in digested_files():
        digest.update(source.name.encode())
        digest.update(source.read_bytes())
    return digest.hexdigest()


def input_digest(b: BailleurMarts, options: Options) -> str:
    """Digest of the code, the options and every mart row of ``b``, whatever the rows' order
    (DuckDB does not keep it from one build to the next)."""
    digest = hashlib.sha256(f"{code_digest()}\n{options!r}".encode())
    for name in sorted(b.frames):
        frame = b.frames[name]
        digest.update(f"\n{name}\n{frame.schema!r}\n".encode())
        digest.update(frame.hash_rows(seed=0).sort().to_numpy().tobytes())
    return digest.hexdigest()
