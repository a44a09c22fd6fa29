"""Campaign tracking (suivi de campagne): who was expected, who sent what and when, who must
be reminded. Dagster-free; wired by ``dagster_project/defs/suivi``."""
