"""The product's clock: real time, or a simulated one for the demo and the tests.

Only what depends on the campaign calendar reads it: the time a file is first seen in the
landing folder (``ingest/apparitions.py``) and the instant the tracking is evaluated at
(``suivi``). ``FLUX_HORLOGE`` (ISO date-time, UTC) freezes it: ``make run`` uses it to replay a
campaign whose dates are in the past; a real campaign never sets it.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime

HORLOGE_ENV = "FLUX_HORLOGE"


def maintenant() -> datetime:
    """Now, naive UTC (the raw store's convention)."""
    simulated = os.environ.get(HORLOGE_ENV, "").strip()
    if simulated:
        moment = datetime.fromisoformat(simulated)
        return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment
    return datetime.now(UTC).replace(tzinfo=None)
