"""Same inputs, same bytes: the sums of doubles in the marts do not depend on row order."""

from __future__ import annotations

import random

import duckdb
import jinja2

from dagster_project.settings import DBT_PROJECT_DIR

MACRO = (DBT_PROJECT_DIR / "macros" / "exact_sum.sql").read_text(encoding="utf-8")


def exact_sum(column: str) -> str:
    return jinja2.Environment().from_string(MACRO + f"{{{{ exact_sum('{column}') }}}}").render()


def sums_over_orders(expression: str, values: list[float], orders: int = 20) -> set[float]:
    rng = random.Random(3)
    results = set()
    with duckdb.connect() as con:
        for _ in range(orders):
            shuffled = values[:]
            rng.shuffle(shuffled)
            con.execute("create or replace table t as select unnest(?::double[]) as droit",
                        [shuffled])
            results.add(con.execute(f"select {expression} from t").fetchone()[0])
    return results


def test_droits_add_up_to_the_same_bits_in_any_order():
    rng = random.Random(7)
    # droit = taux conventionnel × flux net / 100, as mart_flux_perimetre computes it
    droits = [rng.choice([5, 17.5, 25, 30, 12.3]) / 100.0 * rng.randint(1, 400)
              for _ in range(5000)]
    assert len(sums_over_orders("sum(droit)", droits)) > 1  # what the marts did before
    (total,) = sums_over_orders(exact_sum("droit"), droits)
    assert abs(total - sum(droits)) < 1e-6
