"""Dates as the regional team reads them: Paris time, ``01/12/2026 14:40``."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")


def paris(moment: datetime) -> datetime:
    """A naive UTC instant as naive Paris wall time (what a spreadsheet cell shows)."""
    return moment.replace(tzinfo=UTC).astimezone(PARIS).replace(tzinfo=None)


def texte(moment: datetime | date | str | None) -> str:
    if moment is None or moment == "":
        return ""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
        moment = moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment
    if isinstance(moment, datetime):
        return f"{paris(moment):%d/%m/%Y %H:%M}"
    return f"{moment:%d/%m/%Y}"
