"""Data-quality rules of the domain (§6) run with Great Expectations, free of Dagster.

``suites`` reads the editable JSON suites of ``expectations/``, ``frames`` builds the small
reconciliation frames the cross-table rules are checked on, ``gx_runner`` validates a frame,
``outcomes`` turns results into per-bailleur rows, ``checks`` lists what each Dagster check
validates, ``scorecard`` summarises everything per bailleur in French.
"""
