"""`make docs`: the dbt data dictionary is generated as one self-contained HTML page."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_dbt_docs_generate_a_static_data_dictionary(tmp_path):
    env = {**os.environ, "FLUX_DATA_DIR": str(tmp_path / "data")}
    (tmp_path / "data" / "warehouse").mkdir(parents=True)
    dbt = Path(sys.executable).parent / "dbt"
    result = subprocess.run(
        [str(dbt), "--no-use-colors", "docs", "generate", "--project-dir", "dbt",
         "--profiles-dir", "dbt", "--target-path", str(tmp_path / "docs"), "--static",
         "--empty-catalog"],
        cwd=ROOT, env=env, capture_output=True, text=True, check=False, timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    page = (tmp_path / "docs" / "static_index.html").read_text(encoding="utf-8")
    for model in ("mart_bilan_reservataire", "fct_tours", "stg_tours"):
        assert model in page
