"""Which project a Layers job belongs to. `GET /v1/jobs/:id` is not scoped to a project, so
the dashboard keeps, for every job id Layers gives back to one of its project-scoped calls,
the project (and the campaign, when the write was about one). A job page answers only for
a job recorded under the project in its URL."""

from django.db import models

__all__ = ["LayersJob"]


class LayersJob(models.Model):
    job_id = models.CharField(max_length=80, unique=True)
    project_id = models.CharField(max_length=80, db_index=True)
    campaign_id = models.CharField(max_length=80, blank=True, default="")
    platform = models.CharField(max_length=16, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"{self.job_id} on {self.project_id}"
