"""The campaign command as an operator types it, in a fresh process and a data folder of its own."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def cli_env(data: Path) -> dict[str, str]:
    env = {**os.environ, "FLUX_DATA_DIR": str(data), "FLUX_LANDING_SETTLE_SECONDS": "0"}
    env.pop("DAGSTER_HOME", None)
    env.pop("FLUX_LANDING_DIR", None)
    return env


def run_cli(data: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dagster_project.campaign", "run", *args],
                          cwd=ROOT, env=cli_env(data), capture_output=True, text=True,
                          check=False, timeout=900)
