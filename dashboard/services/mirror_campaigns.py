"""The mirror's campaigns: each mirrored project's campaigns (name, status, account, daily
budget) and, for the campaigns its pending actions name, their authority on the three axes,
so the project queue draws a row's campaign, currency, "moved since" hint and authority
matrix without reading Layers on a page view.

The sync engine reads them inside its budget (services/sync/tick.py, `_campaigns`): a
project's campaign list when it is unknown, asked for, or CAMPAIGNS_MAX_AGE old (one read a
page of 200); the authority of each campaign a pending action names when unknown or
AUTHORITY_MAX_AGE old (one read each); a layer's defaults for a platform with a pending
campaign creation. A change made here (the authority toggle, a budget, pause or resume)
updates its row at once (`mirror_campaign_written`, `mirror_authority_written`)."""

from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from dashboard.layers import LayersError
from dashboard.models import MirrorAction, MirrorCampaign, MirrorProject, SyncFeed
from dashboard.services.mirror_currency import mirror_currencies_apply
from dashboard.services.mirror_stamp import ROWS, mirror_stamp_bump
from dashboard.services.sync.budget import read_note, sync_client

CAMPAIGNS_MAX_AGE = timedelta(hours=6)
AUTHORITY_MAX_AGE = timedelta(hours=24)
CAMPAIGN_PAGES = 20
WHOAMI = "whoami"  # the SyncFeed row that keeps the key's scopes (read with discovery)


def mirror_campaigns_refresh(project_id: str, *, now=None, client=None) -> int:
    """Reads the project's campaign list (every page; one read each) and makes the mirror
    match it, keeping each campaign's authority. Answers how many campaigns there are."""
    from dashboard.services.mirror import mirror_pages

    now = now or timezone.now()
    client = client or sync_client()
    project, _ = MirrorProject.objects.get_or_create(project_id=project_id)
    try:
        campaigns, complete = mirror_pages(
            client.campaigns_list,
            note={"kind": "campaigns", "project_id": project_id},
            now=now,
            max_pages=CAMPAIGN_PAGES,
            project_id=project_id,
            limit=200,
        )
    except LayersError as error:
        if _refused(error):  # not read again before its time: no read spent in a loop
            MirrorProject.objects.filter(pk=project.pk).update(campaigns_read_at=now)
        raise
    with transaction.atomic():
        rows = [
            MirrorCampaign(
                project=project,
                campaign_id=c.campaign_id,
                platform=c.platform or "",
                name=c.name[:300],
                status=(c.status or "")[:24],
                ad_account_id=(c.ad_account_id or "")[:80],
                daily_budget_cents=c.daily_budget_cents,
                record=_raw(c),
                listed=True,
                synced_at=now,
            )
            for c in campaigns
        ]
        MirrorCampaign.objects.bulk_create(
            rows,
            batch_size=500,
            update_conflicts=True,
            unique_fields=["project", "campaign_id"],
            update_fields=[
                "platform",
                "name",
                "status",
                "ad_account_id",
                "daily_budget_cents",
                "record",
                "listed",
                "synced_at",
            ],
        )
        if complete:
            MirrorCampaign.objects.filter(project=project).exclude(
                campaign_id__in=[c.campaign_id for c in campaigns]
            ).update(listed=False)
        MirrorProject.objects.filter(pk=project.pk).update(campaigns_read_at=now)
        # A platform whose accounts differ in currency: its actions are in their campaign's
        # account's currency, known from now on (services/mirror_currency.py).
        changed = sum(
            mirror_currencies_apply(project, platform)
            for platform in (project.platforms or [])
            if not (project.currency_by_platform or {}).get(platform)
        )
    if changed:
        mirror_stamp_bump(ROWS)
    return len(campaigns)


def _raw(campaign) -> dict:
    """The fields Campaign.from_wire reads back (the list items are not kept raw)."""
    return {
        "campaignId": campaign.campaign_id,
        "platform": campaign.platform,
        "adAccountId": campaign.ad_account_id,
        "name": campaign.name,
        "status": campaign.status,
        "dailyBudgetCents": campaign.daily_budget_cents,
        "lifetimeBudgetCents": campaign.lifetime_budget_cents,
    }


def mirror_campaigns_due(now, project_id: str | None = None) -> list[str]:
    """Projects whose campaign list is unknown, asked for again, or CAMPAIGNS_MAX_AGE old
    (the unknown first); only projects with pending actions in the mirror need one."""
    projects = MirrorProject.objects.filter(
        Q(campaigns_read_at__isnull=True) | Q(campaigns_read_at__lt=now - CAMPAIGNS_MAX_AGE)
    ).filter(actions__status="pending")
    if project_id:
        projects = projects.filter(project_id=project_id)
    return list(
        projects.order_by("campaigns_read_at", "project_id")
        .values_list("project_id", flat=True)
        .distinct()
    )


def mirror_authority_due(now, project_id: str | None = None) -> list[tuple]:
    """What the pending actions' authority matrices need and the mirror lacks (or has had
    for AUTHORITY_MAX_AGE): ("campaign", project, platform, campaign id) for each campaign
    named, ("layer", project, platform, "") for a platform with a campaign creation."""
    actions = MirrorAction.objects.pending()
    if project_id:
        actions = actions.filter(project_id=project_id)
    named = set(
        actions.exclude(campaign_id__isnull=True)
        .exclude(campaign_id="")
        .values_list("project_id", "platform", "campaign_id")
    )
    creating = set(
        actions.filter(action_type="create_campaign").values_list("project_id", "platform")
    )
    old = now - AUTHORITY_MAX_AGE
    fresh = set(
        MirrorCampaign.objects.filter(
            project_id__in={p for p, _, _ in named}, authority_read_at__gte=old
        ).values_list("project_id", "campaign_id")
    )
    gone = set(
        MirrorCampaign.objects.filter(
            project_id__in={p for p, _, _ in named}, status="deleted"
        ).values_list("project_id", "campaign_id")
    )
    due = [
        ("campaign", p, platform, c)
        for p, platform, c in sorted(named)
        if (p, c) not in fresh and (p, c) not in gone and platform
    ]
    defaults = dict(
        MirrorProject.objects.filter(project_id__in={p for p, _ in creating}).values_list(
            "project_id", "layer_defaults"
        )
    )
    for p, platform in sorted(creating):
        read_at = parse_datetime(((defaults.get(p) or {}).get(platform) or {}).get("read_at") or "")
        if platform and (read_at is None or read_at < old):
            due.append(("layer", p, platform, ""))
    return due


def mirror_authority_refresh(item: tuple, *, now=None, client=None) -> None:
    """One read: a campaign's authority (or a layer's defaults), into the mirror."""
    kind, project_id, platform, campaign_id = item
    now = now or timezone.now()
    client = client or sync_client()
    note = {"kind": "authority", "project_id": project_id, "platform": platform}
    try:
        if kind == "layer":
            found = client.defaults_get(project_id=project_id, platform=platform)
        else:
            found = client.authority_get(
                project_id=project_id, platform=platform, campaign_id=campaign_id
            )
    except LayersError as error:
        read_note(**note, at=now, status=error.status)
        if _refused(error):  # no matrix for it until its time comes again
            _authority_keep(kind, project_id, platform, campaign_id, {}, "", now)
        raise
    read_note(**note, at=now)
    if kind == "layer":
        _authority_keep(kind, project_id, platform, "", found.defaults.values, "", now)
    else:
        mirror_authority_written(project_id, platform, campaign_id, found, now=now)


def _refused(error: LayersError) -> bool:
    """Layers refused this one read (404, 403…), not the engine (429, 5xx, unreachable)."""
    return error.status is not None and 400 <= error.status < 500 and error.status != 429


def _authority_keep(kind, project_id, platform, campaign_id, values, source, now) -> None:
    fields = {"authority": values, "authority_source": source[:24], "authority_read_at": now}
    mirrored = MirrorCampaign.objects.filter(project_id=project_id, campaign_id=campaign_id)
    if kind != "layer" and mirrored.update(**fields):
        return  # a campaign the mirror has: one UPDATE
    project, _ = MirrorProject.objects.get_or_create(project_id=project_id)
    if kind == "layer":
        defaults = dict(project.layer_defaults or {})
        defaults[platform] = {"values": values, "read_at": now.isoformat()}
        MirrorProject.objects.filter(pk=project_id).update(layer_defaults=defaults)
        return
    campaign, _ = MirrorCampaign.objects.get_or_create(
        project=project,
        campaign_id=campaign_id,
        defaults={"platform": platform or "", "listed": False},
    )
    MirrorCampaign.objects.filter(pk=campaign.pk).update(**fields)


def mirror_authority_written(project_id, platform, campaign_id, authority, *, now=None) -> None:
    """A campaign's authority as Layers answered it (a read, or a change made here)."""
    now = now or timezone.now()
    values = authority.authority.values
    _authority_keep(
        "campaign",
        project_id,
        platform,
        campaign_id,
        values,
        authority.source or "per_campaign",
        now,
    )


def mirror_campaign_written(project_id: str, campaign_id: str, **fields) -> None:
    """A write made here that Layers applied (a daily budget, pause, resume, delete): the
    mirrored campaign shows it at once. Its list is read again soon all the same."""
    allowed = {k: v for k, v in fields.items() if k in ("daily_budget_cents", "status")}
    if allowed:
        MirrorCampaign.objects.filter(project_id=project_id, campaign_id=campaign_id).update(
            **allowed
        )
    mirror_campaigns_stale(project_id)


def mirror_campaigns_stale(project_id: str, *, authority: bool = False) -> None:
    """The project's campaign list (with `authority`, its campaigns' authority too) is read
    again by the next ticks that have room in the sweep's pace."""
    MirrorProject.objects.filter(project_id=project_id).update(campaigns_read_at=None)
    if authority:
        MirrorCampaign.objects.filter(project_id=project_id).update(authority_read_at=None)


def mirror_whoami(*, now=None, client=None):
    """One read of the key's description; its scopes are kept (the queue's "this key may
    not decide" banner reads them, not Layers). Answers the scopes."""
    now = now or timezone.now()
    client = client or sync_client()
    try:
        whoami = client.whoami()
    except LayersError as error:
        read_note(kind="whoami", at=now, status=error.status)
        raise
    read_note(kind="whoami", at=now)
    SyncFeed.objects.update_or_create(
        name=WHOAMI, defaults={"seen_ids": list(whoami.scopes), "read_at": now}
    )
    return whoami


def mirror_key_scopes():
    """The key's scopes as last read (a WhoAmI-like object), or None when never read."""
    from dashboard.layers.records import WhoAmI

    row = next(iter(SyncFeed.objects.filter(name=WHOAMI).values_list("read_at", "seen_ids")), None)
    if row is None or row[0] is None:
        return None
    return WhoAmI(organization_id="", organization_name=None, api_key_id=None, scopes=tuple(row[1]))
