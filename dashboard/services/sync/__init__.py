"""The sync engine that keeps the mirror (dashboard/models/mirror.py) fresh.

budget.py: its share of the key's reads, learnt from the rate-limit headers, and back-off.
lease.py: one owner at a time. feed.py: the org-wide audit log as a change hint.
tick.py: one tick (requested, dirty, then the reconciler's sweep). status.py: the figures."""
