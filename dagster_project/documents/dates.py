"""One way to print a moment in every document: Paris time, ``01/12/2026 14:40``."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")
PARIS_LABEL = "heure de Paris"


def paris(moment: dt.datetime | str | None) -> str:
    """``moment`` (naive means UTC, as the pipeline stores it) as Paris time, to the minute."""
    if moment is None or moment == "":
        return ""
    if isinstance(moment, str):
        moment = dt.datetime.fromisoformat(moment)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(PARIS).strftime("%d/%m/%Y %H:%M")
