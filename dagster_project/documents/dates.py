"""One way to print a moment in every document: Paris time, ``01/12/2026 14:40``."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")
PARIS_LABEL = "heure de Paris"


def paris_wall_time(moment: dt.datetime) -> dt.datetime:
    """``moment`` (naive means UTC) as naive Paris wall time: what a spreadsheet date cell shows."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(PARIS).replace(tzinfo=None)


def paris(moment: dt.datetime | dt.date | str | None) -> str:
    """``moment`` (naive means UTC, as the pipeline stores it) as Paris time, to the minute; a
    calendar date (a deadline) as ``28/02/2025``."""
    if moment is None or moment == "":
        return ""
    if isinstance(moment, str):
        moment = dt.datetime.fromisoformat(moment)
    if isinstance(moment, dt.datetime):
        return f"{paris_wall_time(moment):%d/%m/%Y %H:%M}"
    return f"{moment:%d/%m/%Y}"
