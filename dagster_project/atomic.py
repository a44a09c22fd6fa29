"""File I/O shared by every stage: atomic writes and content hashes.

Every output of the pipeline (raw store, archive, rapports, quality results, marts, trames,
catalog, summary) is written through here, so analysts and bailleurs can read while a run
writes: a reader sees the previous file or the new one, never half of one.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import polars as pl


@contextmanager
def atomic_target(target: Path) -> Iterator[Path]:
    """A temporary path beside ``target``, renamed onto it when the block succeeds."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        tmp.chmod(0o644)  # mkstemp's 0600 would hide outputs from whoever sends or reads them
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def write_bytes(target: Path, data: bytes) -> None:
    with atomic_target(target) as tmp:
        tmp.write_bytes(data)


def write_parquet(frame: pl.DataFrame, target: Path) -> None:
    with atomic_target(target) as tmp:
        frame.write_parquet(tmp)


def copy_file(source: Path, target: Path) -> None:
    with atomic_target(target) as tmp:
        shutil.copyfile(source, tmp)


def sha256_of(path: Path) -> str:
    """SHA-256 of a file, read in 1 MiB chunks (dropped files can be large)."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()
