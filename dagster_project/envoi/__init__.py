"""Delivery of the trames to their recipients (e-mail drafts, SMTP sending, platform export),
recorded in an append-only journal. Run on demand, after the campaign: never part of it."""
