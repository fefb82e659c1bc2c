"""Control actions that write test data: many pending actions on one layer
(`pending-bulk`), hostile text in every field people see (`hostile`) and generated
customers at partner scale (`customers`, see scale.py). Also the control surface's error
and its layer look-up, shared with control.py."""

import random
from datetime import timedelta

from . import changes, clock, proposals, scale
from .http import body_platform
from .models import AdAccount, Campaign, Layer, PendingAction, Project


class BadControl(Exception):
    pass


def _layer(body) -> Layer:
    platform = body.get("platform", "")
    platform = body_platform(platform) if platform.endswith("_ads") else platform
    layer = (
        Layer.objects.select_for_update()
        .filter(project_id=str(body.get("projectId", "")).removeprefix("prj_"), platform=platform)
        .first()
    )
    if layer is None:
        raise BadControl("no layer for that projectId + platform")
    return layer


def pending_bulk(body):
    layer = _layer(body)
    count = int(body.get("count", 1))
    if not 1 <= count <= 5000:
        raise BadControl("count must be 1 to 5000")
    action_types = [body["actionType"]] if body.get("actionType") else proposals.OPTIMIZER_ACTIONS
    campaigns = list(
        Campaign.objects.filter(project_id=layer.project_id, platform=layer.platform)
        .exclude(status="deleted")
        .order_by("id")
    )
    if not campaigns:
        raise BadControl("that layer has no campaigns")
    rng, now = random.Random(count), clock.now()
    rows = []
    for n in range(count):
        proposal = proposals.propose(
            campaigns[n % len(campaigns)], action_types[n % len(action_types)], rng, now
        )
        proposal.pop("guardrail")
        at = now - timedelta(seconds=count - n)  # distinct, ordered creation times
        rows.append(
            PendingAction(
                id=clock.new_id("pa", at),
                project_id=layer.project_id,
                platform=layer.platform,
                action_type=proposal["actionType"],
                entity_type=proposal["entityType"],
                entity_id=proposal["entityId"],
                entity_name=proposal["entityName"],
                current_value=proposal["currentValue"],
                new_value=proposal["newValue"],
                rationale=proposal["rationale"],
                proposed_action=proposal["proposedAction"],
                source="optimizer",
                created_at=at,
                expires_at=at + changes.PENDING_TTL,
            )
        )
    PendingAction.objects.bulk_create(rows, batch_size=500)
    return {"pendingIds": [r.id for r in rows]}


def hostile(body):
    """Test aid for untrusted-text tests: writes the given strings into every field of a
    project that a partner's people see and only Layers can set (project, ad-account and
    campaign names; pending actions' entity names, rationale and proposal detail with its
    creative URLs), cycling through `texts` so each string lands in every kind of field.
    Optional `primaryLanguage` and `currency` go into the project's language and every
    account's currency as they are (a malformed locale, a code no one knows)."""
    texts = body.get("texts")
    if not isinstance(texts, list) or not texts or not all(isinstance(t, str) and t for t in texts):
        raise BadControl("texts must be a non-empty list of strings")
    project = Project.objects.filter(pk=str(body.get("projectId", "")).removeprefix("prj_")).first()
    if project is None:
        raise BadControl("no such projectId")
    cycle = lambda n: texts[n % len(texts)]  # noqa: E731
    project.name = cycle(0)
    if isinstance(body.get("primaryLanguage"), str):
        project.primary_language = body["primaryLanguage"]
    project.save(update_fields=["name", "primary_language"])
    for n, account in enumerate(AdAccount.objects.filter(project=project).order_by("id")):
        account.name = cycle(n)
        if isinstance(body.get("currency"), str):
            account.currency = body["currency"]
        account.save(update_fields=["name", "currency"])
    for n, campaign in enumerate(Campaign.objects.filter(project=project).order_by("id")):
        campaign.name = cycle(n + 1)
        campaign.save(update_fields=["name"])
    actions = PendingAction.objects.filter(project=project, status="pending").order_by("id")
    for n, action in enumerate(actions):
        text = cycle(n)
        action.entity_name = text
        action.rationale = (
            body.get("longText") if n == 0 and isinstance(body.get("longText"), str) else text
        )
        detail = (action.proposed_action or {}).get("detail") or {}
        action.proposed_action = {
            **(action.proposed_action or {}),
            "detail": {
                **(detail if isinstance(detail, dict) else {}),
                "creativeUrl": text,
                "note": text,
                "headline": text,
            },
        }
        action.save(update_fields=["entity_name", "rationale", "proposed_action"])
    return {"projectId": f"prj_{project.pk}", "pendingActions": actions.count()}


def customers(body):
    count = body.get("count")
    if not isinstance(count, int) or not 1 <= count <= 5000:
        raise BadControl("count must be an integer from 1 to 5000")
    return scale.seed_customers(count)
