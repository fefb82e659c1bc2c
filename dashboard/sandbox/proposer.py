"""The optimizer proposing over time: new pending actions keep arriving across the customers,
at a rate, so a sync engine has real work in tests, in the demo and in the bench.

Switched on by control `proposer {"perMinute": 6, "durationSeconds": 3600, "maxPending":
10000, "projectIds": [...]}` (`perMinute: 0` switches it off) or, for `make run` and the
bench, by the setting SANDBOX_PROPOSER_PER_MINUTE (env; 0 = off, the default). Each
proposal is what a scheduled optimizer run on one layer would queue: an `ads_optimizer_run`
job and run (completed), the verdict, a real pending action on a draft axis of a live
campaign (never on a frozen layer), its `ads.write.queued` audit row naming the project,
platform and pending id, and the webhooks `ads.optimizer.run.completed` (its `changes` carry
the `pendingId`) and `job.completed`; one run per proposal. A step also stands for the
optimizer's tick: it expires what is past `expiresAt` and dispatches approved actions
(contract §4.16: "or sooner if a new optimizer run is triggered"), which writes
`ads.pending.expired` / `ads.pending.dispatched` rows and fires `approval.dispatched`.

How it is driven, and why both ways:

* Lazily, on the sandbox clock. State keeps the rate, the sandbox time the next proposal is
  due and when to stop. `step()` makes every proposal due by the sandbox clock (at most
  MAX_BURST at once; after a long gap it skips ahead rather than flood), and claims those
  slots with a compare-and-set on State in the same transaction, so any number of threads
  and processes (runserver's threads, gunicorn workers, pytest's live server) make each
  proposal exactly once. Every sandbox API request runs `step()` first when a proposal is
  due, so whatever a client reads already includes everything due by then, and tests move
  time with control `clock` instead of sleeping.
* A pacer thread per process calls `step()` twice a second, so proposals and their
  webhooks arrive on time when nobody calls the API (a sync engine at rest waits for
  webhooks). The control action starts it; with the setting, the first API request does.

It stops by itself: the pacer exits when the proposer is switched off, when its end passes
(`durationSeconds`, default one hour; the setting has none), when the sandbox is reset, and
after ten minutes without an API or control request; it is a daemon thread, so it also
ends with its process, and it holds no database connection between steps. The proposer
idles while `maxPending` actions (default 10,000) are pending."""

import logging
import random
import threading
import time
from datetime import timedelta

from django.conf import settings
from django.db import close_old_connections, connection, transaction

from . import clock
from .changes import AXIS_OF, dispatch_approved, expire_pending
from .models import Campaign, Layer, OptimizerRun, PendingAction, State
from .proposals import OPTIMIZER_ACTIONS, propose_within_guardrails
from .records import audit, create_job, effective_authority
from .runs import STAGES, complete_run, settle_proposal

log = logging.getLogger(__name__)
MAX_BURST = 50  # proposals one step makes at most
DEFAULT_DURATION = timedelta(hours=1)
DEFAULT_MAX_PENDING = 10_000
PACE_SECONDS = 0.5
IDLE_SECONDS = 600
MIN_AGE = timedelta(days=3)  # the guardrail's minimum entity age (contract §2.8)
NO_ADS = {"pause_ad", "push_creative", "replace_creative", "prune_creative"}  # Apple (D36)

_lock = threading.Lock()
_pacer: tuple[threading.Thread, str] | None = None  # (thread, the sandbox epoch it serves)
_last_seen = time.monotonic()  # of the last API or control request in this process


def per_minute(state: State) -> float:
    if state.proposer_per_minute is not None:
        return state.proposer_per_minute
    return settings.SANDBOX_PROPOSER_PER_MINUTE


def active(state: State, now=None) -> bool:
    if per_minute(state) <= 0:
        return False
    until = state.proposer_until
    return until is None or (now or clock.now(state)) < until


def due(state: State, now) -> bool:
    """Whether a step would make something: a slot has come (before the end), or the
    setting has just turned the proposer on and its schedule must start."""
    if per_minute(state) <= 0:
        return False
    at, until = state.proposer_next_at, state.proposer_until
    return at is None or (at <= now and (until is None or at < until))


def describe(state: State) -> dict:
    return {
        "perMinute": per_minute(state),
        "active": active(state),
        "nextAt": clock.iso(state.proposer_next_at),
        "until": clock.iso(state.proposer_until),
        "maxPending": state.proposer_max_pending or DEFAULT_MAX_PENDING,
        "projectIds": [f"prj_{uid}" for uid in state.proposer_projects],
        "source": "control" if state.proposer_per_minute is not None else "setting",
    }


def switch(state: State, *, rate, duration, max_pending, project_ids) -> dict:
    """Control `proposer`: starts (rate > 0) or stops (0) proposing; the schedule starts now."""
    now = clock.now(state)
    State.objects.filter(pk=state.pk).update(
        proposer_per_minute=rate,
        proposer_next_at=now + timedelta(seconds=60 / rate) if rate else None,
        proposer_until=now + duration if rate else None,
        proposer_max_pending=max_pending,
        proposer_projects=project_ids,
    )
    state.refresh_from_db()
    seen()
    if rate:  # after commit: a pacer reading the old row would stop at once
        transaction.on_commit(lambda: ensure_pacer(state))
    return describe(state)


def seen() -> None:
    global _last_seen
    _last_seen = time.monotonic()


def on_request(state: State) -> None:
    """Called by every API request before its view: makes what is due (never fails it)."""
    seen()
    if per_minute(state) <= 0:
        return
    now = clock.now(state)
    if active(state, now):
        ensure_pacer(state)
    if due(state, now):
        try:
            step()
        except Exception:
            log.exception("the sandbox proposer failed a step")


def ensure_pacer(state: State) -> None:
    global _pacer
    with _lock:
        if _pacer is not None and _pacer[0].is_alive() and _pacer[1] == state.epoch:
            return
        thread = threading.Thread(
            target=_pace, args=(state.epoch,), name="sandbox-proposer", daemon=True
        )
        _pacer = (thread, state.epoch)
        thread.start()


def _pace(epoch: str) -> None:
    """Steps until the proposer is off or over, the sandbox is reset or wiped, nobody has
    called for IDLE_SECONDS, or a step fails (the next request starts a new pacer)."""
    while time.monotonic() - _last_seen < IDLE_SECONDS:
        time.sleep(PACE_SECONDS)
        try:
            close_old_connections()
            state = State.objects.first()
            if state is None or state.epoch != epoch:
                return
            step()
            if not active(state):
                return
        except Exception:  # a pacer must never take anything down with it
            log.warning("the sandbox proposer stopped after a failed step", exc_info=True)
            return
        finally:
            connection.close()


def step(now=None) -> int:
    """Makes every proposal due by the sandbox clock; returns how many it made."""
    state = State.objects.first()
    if state is None or per_minute(state) <= 0:
        return 0
    now = now or clock.now(state)
    interval = timedelta(seconds=60 / per_minute(state))
    claim = State.objects.filter(
        pk=state.pk, epoch=state.epoch, proposer_next_at=state.proposer_next_at
    )
    if state.proposer_next_at is None:  # the setting turned it on: the schedule starts now
        claim.update(proposer_next_at=now + interval)
        return 0
    slots, at, until = [], state.proposer_next_at, state.proposer_until
    while at <= now and (until is None or at < until) and len(slots) < MAX_BURST:
        slots.append(at)
        at += interval
    if not slots:
        return 0
    with transaction.atomic():
        # Past MAX_BURST, the backlog is skipped: the schedule resumes from now.
        if not claim.update(proposer_next_at=at if at > now else now + interval):
            return 0  # another thread or process took these slots
        expire_pending(now)
        made = _propose(state, slots, now)
    dispatch_approved(now)
    return made


def _propose(state: State, slots: list, now) -> int:
    limit = state.proposer_max_pending or DEFAULT_MAX_PENDING
    room = limit - PendingAction.objects.filter(status="pending").count()
    layers = Layer.objects.filter(kill_switch=False)
    if state.proposer_projects:
        layers = layers.filter(project_id__in=state.proposer_projects)
    layer_ids = list(layers.order_by("id").values_list("id", flat=True))
    rng = random.Random(f"{state.epoch}:{slots[0].isoformat()}")
    made = 0
    for at in slots[: max(0, room)]:
        chosen = _choose(layer_ids, rng, at)
        if chosen is None:
            continue
        layer, campaign, proposal = chosen
        run = _start(layer, at)
        complete_run(run, [settle_proposal(run, layer, campaign, proposal, at)], at, now)
        run.job.save()
        run.save()
        made += 1
    return made


def _choose(layer_ids: list, rng, at):
    """A layer, a live campaign old enough, and a proposal on one of its draft axes."""
    for _ in range(min(10, len(layer_ids))):
        layer = Layer.objects.select_related("project").get(pk=rng.choice(layer_ids))
        campaigns = list(
            Campaign.objects.filter(
                project_id=layer.project_id,
                platform=layer.platform,
                managed_by_layers=True,
                status="active",
                created_at__lte=at - MIN_AGE,
            )
            .select_related("ad_account")
            .order_by("id")
        )
        rng.shuffle(campaigns)
        for campaign in campaigns:
            authority, _ = effective_authority(campaign, layer)
            actions = [
                a
                for a in OPTIMIZER_ACTIONS
                if authority[AXIS_OF[a]] == "draft"
                and not (layer.platform == "apple" and a in NO_ADS)
            ]
            if actions:
                proposal = propose_within_guardrails(campaign, rng.choice(actions), rng, at)
                if proposal is not None:
                    return layer, campaign, proposal
    return None


def _start(layer: Layer, at) -> OptimizerRun:
    """A scheduled optimizer run on the layer, already through its stages."""
    run_id = clock.new_id("run", at)
    project_id = f"prj_{layer.project_id}"
    job = create_job(
        "ads_optimizer_run",
        project_id=project_id,
        at=at,
        complete_after=None,
        stage=STAGES[-1],
        runId=run_id,
        layerId=layer.id,
    )
    audit(
        "ads.optimizer.run_started",
        at=at,
        project_id=project_id,
        actor="optimizer",
        runId=run_id,
        jobId=job.id,
        layerId=layer.id,
        platform=layer.platform,
        dryRun=False,
        trigger="schedule",
    )
    return OptimizerRun.objects.create(
        id=run_id,
        job=job,
        project_id=layer.project_id,
        layer=layer,
        stages=[{"stage": stage, "enteredAt": clock.iso(at)} for stage in STAGES],
        started_at=at,
        summary={"proposed": 0, "dispatched": 0, "queued": 0, "skipped": 0},
    )
