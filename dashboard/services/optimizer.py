"""The optimizer: start a run for a platform layer (optionally dry), follow it to the end.

Layers has no "list runs" call, so the runs started here are remembered in our own
decision log (action "optimizer", entity = run id), which also says who started them."""

import re
from dataclasses import dataclass

from django.core.cache import cache

from dashboard.layers import PLATFORMS, Conflict, LayersError
from dashboard.models import DecisionRecord, Role
from dashboard.services import access
from dashboard.services.jobs import job_remember_project
from dashboard.services.projects import defaults_reader, project_get
from dashboard.services.upstream import layers, project_cache_bump
from dashboard.services.writes import Outcome, consent_note, key_clean, refused
from dashboard.wording import platform_name

STAGE_WORDS = {
    "queued": "Queued",
    "fetching_metrics": "Fetching 30 days of performance",
    "evaluating": "Evaluating campaigns",
    "proposing": "Proposing changes",
    "dispatching": "Dispatching and queueing",
    "completed": "Completed",
}
STAGES = tuple(STAGE_WORDS)
RECENT = 10


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


@dataclass(frozen=True)
class RunStart:
    run_id: str = ""
    outcome: Outcome | None = None


def optimizer_start(
    *, user, project_id: str, platform: str, dry_run: bool, idempotency_key: str
) -> RunStart:
    """Starts a run; the same form key never starts two (Layers replays the first answer)."""
    access.access_require(user=user, project_id=project_id, action="write")
    if platform not in PLATFORMS:
        return RunStart(outcome=Outcome("invalid", "Choose Meta, TikTok or Apple Ads."))
    key = key_clean(idempotency_key)
    previous = DecisionRecord.objects.filter(idempotency_key=key, action="optimizer").first()
    if previous and previous.entity_id.startswith("run_"):
        return RunStart(run_id=previous.entity_id)
    client = layers()
    try:
        defaults = defaults_reader(project_id, platform)()
        start = client.optimizer_run(
            project_id=project_id,
            layer_id=defaults.layer_id,
            platform=platform,
            dry_run=dry_run,
            idempotency_key=key,
        )
    except Conflict as error:
        running = error.details.get("runId")
        if running:
            _remember(
                user=user,
                project_id=project_id,
                platform=platform,
                run_id=running,
                key=key,
                dry_run=dry_run,
                outcome="already_running",
            )
            return RunStart(
                run_id=running,
                outcome=Outcome(
                    "same",
                    f"A run was already going for {platform_name(platform)}; here it is.",
                    platform=platform,
                ),
            )
        return RunStart(outcome=Outcome("error", error.message, platform=platform))
    except LayersError as error:
        return RunStart(outcome=refused(error, project_id=project_id, platform=platform))
    consent_note(project_id, platform, None)
    _remember(
        user=user,
        project_id=project_id,
        platform=platform,
        run_id=start.run_id,
        key=key,
        dry_run=dry_run,
        outcome=start.status or "running",
    )
    job_remember_project(project_id=project_id, job_id=start.job_id or "")
    return RunStart(run_id=start.run_id)


def _remember(*, user, project_id, platform, run_id, key, dry_run, outcome):
    DecisionRecord.objects.update_or_create(
        idempotency_key=key,
        defaults={
            "user": user,
            "project_id": project_id,
            "platform": platform,
            "action": "optimizer",
            "entity_id": run_id,
            "outcome": outcome,
            "note": "dry run" if dry_run else "run",
        },
    )


@dataclass(frozen=True)
class RunView:
    project: object
    run: object
    role: str

    @property
    def platform(self) -> str:
        return self.run.platform or ""

    @property
    def running(self) -> bool:
        return self.run.status == "running"

    @property
    def stage_rows(self):
        """Every stage with done / current / todo, in order."""
        reached = {s.stage: s for s in self.run.stages}
        rows = []
        for stage in STAGES:
            entered = reached.get(stage)
            at = entered.entered_at if entered else None
            if stage == self.run.stage and self.running:
                state = "current"
            elif entered is not None:
                state = "done"
            else:
                state = "todo"
            rows.append((stage, STAGE_WORDS[stage], state, at))
        return rows

    @property
    def summary(self) -> dict:
        return self.run.summary

    @property
    def changes(self):
        """Each proposed change as a dict with snake_case keys (the record keeps the wire's)."""
        return [
            {_snake(key): value for key, value in change.items()} for change in self.run.changes
        ]

    @property
    def can_write(self) -> bool:
        return access.role_allows(self.role, Role.APPROVER)


def optimizer_run_get(*, user, project_id: str, run_id: str) -> RunView:
    role = access.access_require(user=user, project_id=project_id)
    project = project_get(user=user, project_id=project_id)
    remembered = cache.get(f"run:{project_id}:{run_id}")
    if remembered is not None and remembered.status != "running":
        run = remembered  # a finished run never changes again
    else:
        run = layers().optimizer_run_get(project_id=project_id, run_id=run_id)
        cache.set(f"run:{project_id}:{run_id}", run, timeout=86400)
        job_remember_project(project_id=project_id, job_id=run.job_id or "")  # read per project
        if run.status != "running":
            project_cache_bump(project_id)  # it queued or dispatched changes: lists are stale
    return RunView(project=project, run=run, role=role)


def optimizer_recent_runs(*, project_id: str) -> list[DecisionRecord]:
    return list(
        DecisionRecord.objects.filter(
            project_id=project_id, action="optimizer", entity_id__startswith="run_"
        )
        .select_related("user")
        .order_by("-created_at")[:RECENT]
    )
