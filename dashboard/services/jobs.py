"""Following a write's job to its end (GET /v1/jobs/:id with the last ETag), and which
project and campaign a job belongs to. `GET /v1/jobs/:id` is not scoped to a project, so a
job page answers only for a job this dashboard recorded under the project in the URL (a
LayersJob, written wherever a project-scoped call gives a job id back)."""

from dataclasses import dataclass

from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.http import Http404

from dashboard.layers import LayersError
from dashboard.models import LayersJob
from dashboard.services import access
from dashboard.services.upstream import layers

JOB_SECONDS = 3600
NOT_HERE = (
    "There is no job with that id in this project: the dashboard shows a job only in the "
    "project whose change started it."
)


@dataclass(frozen=True)
class JobView:
    job: object
    campaign_id: str = ""
    platform: str = ""

    @property
    def finished(self) -> bool:
        return self.job.status != "running"


def job_follow(*, user, project_id: str, job_id: str) -> JobView:
    """The job now, asking Layers with the last ETag (a 304 costs nothing to read). A job
    not recorded under this project is a 404, before anything is asked of Layers."""
    access.access_require(user=user, project_id=project_id)
    known = LayersJob.objects.filter(job_id=job_id, project_id=project_id).first()
    if known is None:
        raise Http404(NOT_HERE)
    remembered = cache.get(f"job:{project_id}:{job_id}")
    if remembered is not None and remembered.status != "running":
        job = remembered
    else:
        etag = remembered.etag if remembered is not None else None
        fresh = layers().job_get(job_id=job_id, etag=etag)
        job = fresh if fresh is not None else remembered
        if job is None:  # a 304 without anything remembered: ask in full
            job = layers().job_get(job_id=job_id)
        cache.set(f"job:{project_id}:{job_id}", job, timeout=JOB_SECONDS)
    campaign_id = known.campaign_id or _campaign_in_result(job)
    platform = known.platform
    if campaign_id and not platform:
        platform = next(
            (c.platform for c in _campaigns_or_none(project_id) if c.campaign_id == campaign_id),
            "",
        )
    return JobView(job=job, campaign_id=campaign_id, platform=platform)


def job_remember(*, project_id: str, job_id: str, campaign_id: str = "", platform: str = ""):
    """Records that Layers gave `job_id` back to a call about `project_id`. The first project
    recorded keeps the job: a later claim from another project changes nothing."""
    if not job_id or not project_id:
        return
    try:
        with transaction.atomic():
            known, created = LayersJob.objects.get_or_create(
                job_id=job_id,
                defaults={
                    "project_id": project_id,
                    "campaign_id": campaign_id,
                    "platform": platform,
                },
            )
    except IntegrityError:  # recorded by a concurrent request a moment ago
        return
    if not created and known.project_id == project_id and campaign_id and not known.campaign_id:
        known.campaign_id, known.platform = campaign_id, platform or known.platform
        known.save(update_fields=["campaign_id", "platform"])


def job_remember_campaign(*, project_id: str, job_id: str, campaign_id: str, platform: str) -> None:
    job_remember(project_id=project_id, job_id=job_id, campaign_id=campaign_id, platform=platform)


def job_remember_project(*, project_id: str, job_id: str) -> None:
    job_remember(project_id=project_id, job_id=job_id)


def _campaign_in_result(job) -> str:
    value = (job.result or {}).get("entityId")
    if isinstance(value, str) and value.startswith("cmp_"):
        return value
    return ""


def _campaigns_or_none(project_id):
    from dashboard.services.projects import campaigns_get  # projects -> writes -> jobs

    try:
        return campaigns_get(project_id)
    except LayersError:
        return []
