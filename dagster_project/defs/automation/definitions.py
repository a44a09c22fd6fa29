import dagster as dg


def defs() -> dg.Definitions:
    return dg.Definitions()
