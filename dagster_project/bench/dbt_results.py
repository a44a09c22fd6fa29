"""Where dbt's time goes in a run: its own run_results.json (dagster-dbt keeps one per run).

dagster-dbt writes each invocation's artifacts to ``<data>/warehouse/dbt/<op>-<run id[:7]>-<hash>/``
(``Paths.dbt_artifacts``).
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

TOP_NODES = 8


def run_results_paths(run_id: str, target_dir: Path) -> list[Path]:
    """The run_results.json of each dbt invocation of the run (a campaign has two: the
    bailleur models, then the regional ones), in the order they ran."""
    return sorted(target_dir.glob(f"*-{run_id[:7]}-*/run_results.json"),
                  key=lambda p: p.stat().st_mtime)


def summarize(run_results: dict, top: int = TOP_NODES) -> dict:
    """dbt's own elapsed time, the time per resource type (summed over threads) and the
    slowest nodes."""
    results = run_results.get("results", [])
    by_type: dict[str, float] = defaultdict(float)
    counts: dict[str, int] = defaultdict(int)
    for r in results:
        kind = r["unique_id"].split(".", 1)[0]
        by_type[kind] += r["execution_time"]
        counts[kind] += 1
    slowest = sorted(results, key=lambda r: -r["execution_time"])[:top]
    return {
        "dbt_elapsed_s": round(run_results.get("elapsed_time", 0.0), 2),
        "par_type": {k: {"noeuds": counts[k], "secondes": round(v, 2)}
                     for k, v in sorted(by_type.items(), key=lambda kv: -kv[1])},
        "plus_lents": [{"noeud": r["unique_id"], "secondes": round(r["execution_time"], 2)}
                       for r in slowest],
    }


def dbt_profile(run_id: str, target_dir: Path) -> dict:
    paths = run_results_paths(run_id, target_dir)
    if not paths:
        return {}
    invocations = [json.loads(p.read_text("utf-8")) for p in paths]
    merged = {"elapsed_time": sum(i.get("elapsed_time", 0.0) for i in invocations),
              "results": [r for i in invocations for r in i.get("results", [])]}
    return summarize(merged) | {"fichiers": [str(p) for p in paths]}
