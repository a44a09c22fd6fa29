"""What lies in the landing folder, and the only way a dropped file is opened.

Every entry under the landing folder becomes a :class:`DroppedFile` (or is still being
written, see the settle rule). A symlink, a special file (pipe, socket, device) or a file we
may not read is *refused*: it gets a verdict and a rapport saying why, and is never opened.
A regular file is opened with ``O_NOFOLLOW`` after checking that its real path is inside the
landing folder, so a link swapped in after the walk cannot make us read anything outside it.

Settle rule (shared by the campaign CLI and the sensor): a file is taken once its mtime is at
least ``FLUX_LANDING_SETTLE_SECONDS`` old and its size and mtime did not change while it was
hashed; otherwise it is "en cours de dépôt" and taken at the next run.
"""

from __future__ import annotations

import hashlib
import os
import stat
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from dagster_project.ingest.naming import FileName, is_ignored, parse_file_name
from dagster_project.ingest.text import shorten, visible

DEFAULT_SETTLE_SECONDS = 5.0


def settle_seconds() -> float:
    return float(os.environ.get("FLUX_LANDING_SETTLE_SECONDS", DEFAULT_SETTLE_SECONDS))


def is_settled(st: os.stat_result, now: float | None = None) -> bool:
    """Untouched for the settle delay. A writer leaves the mtime at about now: an mtime further
    in the future than the delay comes from a copy or a skewed clock, not from a write, and
    waiting for it would leave the file without a verdict until that date."""
    age = (time.time() if now is None else now) - st.st_mtime
    return age >= settle_seconds() or age < -settle_seconds()


class StillWriting(Exception):
    """The file changed while it was read, or was modified too recently: take it next time."""


class Outside(OSError):
    """The path resolves outside the landing folder (a parent directory became a link)."""


def landing_entries(landing: Path) -> Iterator[Path]:
    """Every drop under the landing folder, links and special files included (they get a
    rapport); hidden folders, hidden and office lock files are not drops."""
    for root, dirs, files in os.walk(landing, followlinks=False):
        linked = [d for d in dirs if os.path.islink(os.path.join(root, d))]
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in linked)
        for name in sorted([*files, *linked]):
            if not is_ignored(name):
                yield Path(root) / name


def version_id(chemin: str, sha256: str) -> str:
    """``<sha256>_<12 hex of the path>``: sorted by content, one per place it was dropped at."""
    where = hashlib.sha256(chemin.encode("utf-8", "surrogateescape")).hexdigest()[:12]
    return f"{sha256}_{where}"


def relative(path: Path, landing: Path) -> str:
    """The path under the landing folder as found on disk (may hold undecodable bytes)."""
    return path.relative_to(landing).as_posix()


@dataclass
class DroppedFile:
    """One file version found in the landing folder."""

    path: Path
    landing: Path  # the folder it was dropped in: nothing outside it is opened
    chemin: str  # relative to the landing folder, with forward slashes, made visible
    name: FileName
    size: int
    mtime: datetime  # naive UTC: the drop order
    sha256: str  # of the bytes; for a refused entry, of what identifies it (link target…)
    version: str  # store key: this content at this place (version_id)
    refused: str | None = None  # why it was not opened (French, for the rapport)

    @classmethod
    def at(cls, path: Path, landing: Path, now: float | None = None) -> DroppedFile:
        """Hash the file through ``open_inside``; raise :class:`StillWriting` if it is not settled."""
        raw_chemin = relative(path, landing)
        st = os.lstat(path)
        refused = _refusal(path, st)
        sha = None
        if refused is None:
            if not is_settled(st, now):
                raise StillWriting(raw_chemin)
            try:
                with open_inside(path, landing) as fh:
                    sha = hashlib.file_digest(fh, "sha256").hexdigest()
                    after = os.fstat(fh.fileno())
            except PermissionError:
                refused = "droits de lecture insuffisants"
            except Outside:
                refused = "son chemin mène hors du dossier de dépôt"
            except FileNotFoundError:
                raise  # removed meanwhile: the callers skip it
            except OSError as error:  # an I/O error of the disk or the share
                refused = f"illisible ({shorten(visible(error.strerror or type(error).__name__), 120)})"
            else:
                if (after.st_size, after.st_mtime_ns) != (st.st_size, st.st_mtime_ns):
                    raise StillWriting(raw_chemin)
        if sha is None:  # never opened: identified by what it is, where, and when
            sha = hashlib.sha256(f"{refused}\0{st.st_mtime_ns}".encode("utf-8", "surrogateescape")).hexdigest()
        name = visible(path.name)
        return cls(
            path=path,
            landing=landing,
            chemin=visible(raw_chemin),
            name=parse_file_name(name),
            size=st.st_size,
            mtime=datetime.fromtimestamp(st.st_mtime, UTC).replace(tzinfo=None),
            sha256=sha,
            version=version_id(raw_chemin, sha),
            refused=refused,
        )

    @property
    def order(self) -> tuple[datetime, str]:
        return (self.mtime, self.chemin)


def _refusal(path: Path, st: os.stat_result) -> str | None:
    if stat.S_ISLNK(st.st_mode):
        try:
            target = shorten(visible(os.readlink(path)), 120)
        except OSError:
            target = "?"
        return f"lien symbolique vers « {target} »"
    if stat.S_ISDIR(st.st_mode):
        return "dossier"
    if not stat.S_ISREG(st.st_mode):
        return "fichier spécial (tube, socket ou périphérique)"
    return None


@contextmanager
def open_inside(path: Path, landing: Path) -> Iterator[BinaryIO]:
    """Open a regular file for reading, never through a link, never outside ``landing``."""
    real, root = os.path.realpath(path), os.path.realpath(landing)
    if os.path.commonpath([real, root]) != root or real != os.path.join(root, relative(path, landing)):
        raise Outside(str(path))
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise Outside(str(path))
        fh = os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
    with fh:
        yield fh

