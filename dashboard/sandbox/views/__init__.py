"""API views, one module per area. Each is `fn(ctx, **url_kwargs) -> Reply`, wrapped by
`http.endpoint`. Shared look-ups live here: a miss is always 404 NOT_FOUND."""

from ..http import not_found, path_platform
from ..models import Campaign, Layer, Project


def get_project(project_id: str, lock: bool = False) -> Project:
    qs = Project.objects.select_for_update() if lock else Project.objects
    project = qs.filter(uuid=project_id.removeprefix("prj_")).first()
    if project is None:
        raise not_found("project")
    return project


def get_layer(project: Project, platform: str, lock: bool = False) -> Layer:
    qs = Layer.objects.select_for_update() if lock else Layer.objects
    layer = qs.filter(project=project, platform=path_platform(platform)).first()
    if layer is None:
        raise not_found("ads layer for this platform")
    return layer


def get_campaign(project: Project, platform: str, campaign_id: str, lock: bool = False) -> Campaign:
    qs = Campaign.objects.select_for_update() if lock else Campaign.objects
    campaign = qs.filter(project=project, platform=platform, pk=campaign_id).first()
    if campaign is None:
        raise not_found("campaign")
    return campaign
