"""API views, one module per area. Each is `fn(ctx, **url_kwargs) -> Reply`, wrapped by
`http.endpoint`. Shared look-ups live here: a miss is always 404 NOT_FOUND. Unlocked ones go
through rows.first (no per-call ORM compilation); locked ones stay on the ORM."""

from .. import rows
from ..http import not_found, path_platform
from ..models import Campaign, Layer, Project


def get_project(project_id: str, lock: bool = False) -> Project:
    uuid = project_id.removeprefix("prj_")
    if lock:
        project = Project.objects.select_for_update().filter(uuid=uuid).first()
    else:
        project = rows.first(Project, uuid=uuid)
    if project is None:
        raise not_found("project")
    return project


def get_layer(project: Project, platform: str, lock: bool = False) -> Layer:
    platform = path_platform(platform)
    if lock:
        layer = Layer.objects.select_for_update().filter(project=project, platform=platform).first()
    else:  # (project, platform) is unique
        layer = rows.first(Layer, project_id=project.pk, platform=platform)
    if layer is None:
        raise not_found("ads layer for this platform")
    return layer


def get_campaign(project: Project, platform: str, campaign_id: str, lock: bool = False) -> Campaign:
    if lock:
        qs = Campaign.objects.select_for_update()
        campaign = qs.filter(project=project, platform=platform, pk=campaign_id).first()
    else:
        campaign = rows.first(Campaign, id=campaign_id, project_id=project.pk, platform=platform)
    if campaign is None:
        raise not_found("campaign")
    return campaign
