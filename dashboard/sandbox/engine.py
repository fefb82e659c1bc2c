"""What happens after a decision, driven lazily against the sandbox clock (on read) and by
the control `tick` here: pending actions expire and approved ones are dispatched
(changes.py), jobs complete and optimizer runs advance (runs.py), due webhooks are sent
(webhooks.py). What the optimizer proposes is proposals.py."""

from . import clock, webhooks
from .changes import dispatch_approved, expire_pending
from .runs import advance_runs, complete_jobs


def tick(now=None) -> dict:
    now = now or clock.now()
    counts = {
        "expired": expire_pending(now),
        "dispatched": dispatch_approved(now),
        "jobsCompleted": complete_jobs(now),
        "runsCompleted": advance_runs(now),
    }
    counts["webhooks"] = webhooks.deliver_due(now)
    return counts
