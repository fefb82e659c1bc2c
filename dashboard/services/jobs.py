"""Following a write's job to its end (GET /v1/jobs/:id with the last ETag), and which
project and campaign a job our own writes started belongs to."""

from dataclasses import dataclass

from django.core.cache import cache
from django.http import Http404

from dashboard.layers import LayersError
from dashboard.services import access
from dashboard.services.projects import campaigns_get
from dashboard.services.upstream import layers

JOB_SECONDS = 3600


@dataclass(frozen=True)
class JobView:
    job: object
    campaign_id: str = ""
    platform: str = ""

    @property
    def finished(self) -> bool:
        return self.job.status != "running"


def job_follow(*, user, project_id: str, job_id: str) -> JobView:
    """The job now, asking Layers with the last ETag (a 304 costs nothing to read)."""
    access.access_require(user=user, project_id=project_id)
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
    owner = cache.get(f"job-project:{job_id}")  # known for the jobs our own writes started
    if owner and owner != project_id:
        raise Http404("That job belongs to another project.")
    campaign_id, platform = job_campaign(job_id)
    campaign_id = campaign_id or _campaign_in_result(job)
    if campaign_id and not platform:
        platform = next(
            (c.platform for c in _campaigns_or_none(project_id) if c.campaign_id == campaign_id),
            "",
        )
    return JobView(job=job, campaign_id=campaign_id, platform=platform)


def job_remember_campaign(*, project_id: str, job_id: str, campaign_id: str, platform: str) -> None:
    if not job_id:
        return
    cache.set(f"job-campaign:{job_id}", (campaign_id, platform), timeout=JOB_SECONDS * 24)
    job_remember_project(project_id=project_id, job_id=job_id)


def job_remember_project(*, project_id: str, job_id: str) -> None:
    if job_id:
        cache.set(f"job-project:{job_id}", project_id, timeout=JOB_SECONDS * 24)


def job_campaign(job_id: str):
    return cache.get(f"job-campaign:{job_id}") or ("", "")


def _campaign_in_result(job) -> str:
    value = (job.result or {}).get("entityId")
    if isinstance(value, str) and value.startswith("cmp_"):
        return value
    return ""


def _campaigns_or_none(project_id):
    try:
        return campaigns_get(project_id)
    except LayersError:
        return []
