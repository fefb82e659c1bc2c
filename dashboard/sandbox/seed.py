"""The demo story: one partner org (Northwind Partners) running ads for three customers.

* Acme Coffee — Meta, TikTok and Apple connected, consented, a busy approval queue.
* Nordlicht Outdoor — the customer froze Meta writes (layer kill switch on).
* Brightside Games — Meta connected but the customer has not consented to partner writes;
  its App Store accounts are in pounds, yen and won (yen and won have no minor unit).

Times are relative to the sandbox clock at seeding, so "expires within 24 h" stays true.
A reset replays the first reset's rows (snapshot.py) with the times moved and the ids minted
anew: keep every time whole seconds from `now`, write rows through tables.insert and mint ids
through clock (tests/sandbox/test_reset_snapshot.py holds a replay against a fresh seed).
The tables (keys, projects, layers, accounts, campaigns, pending actions) are seed_data.py;
this module turns them into rows."""

import random
from datetime import timedelta

from django.conf import settings

from . import clock, tables
from .changes import AXIS_OF, PENDING_TTL
from .models import AdAccount, ApiKey, AuditEvent, Campaign, Layer, PendingAction, Project, Verdict
from .proposals import propose
from .records import to_millis
from .seed_data import (
    ACCOUNTS,
    ACME,
    ALL_ADS_SCOPES,
    BRIGHTSIDE,
    CAMPAIGNS,
    DEMO_KEY_ID,
    LAYERS,
    NORDLICHT,
    PENDING,
    PROJECTS,
    READONLY_KEY,
    READONLY_KEY_ID,
    REVIEWER_KEY,
    REVIEWER_KEY_ID,
    USER,
)


def seed(state=None, now=None) -> None:
    now = now or clock.now(state)
    _keys()
    projects = {
        uid: Project(
            uuid=uid,
            name=name,
            customer_external_id=ext,
            timezone=tz,
            primary_language=lang,
            owner_email=owner,
            created_at=now - timedelta(days=age),
            updated_at=now - timedelta(days=2),
            brand_context={"voice": f"{name}: warm, plain-spoken, no jargon."},
        )
        for uid, name, ext, tz, lang, owner, age in PROJECTS
    }
    tables.insert(list(projects.values()))
    layers = {}
    for n, (uid, platform, modes, killed, consented) in enumerate(LAYERS):
        defaults = dict(zip(("creative", "tactical", "structural"), modes, strict=True))
        layers[(uid, platform)] = Layer(
            id=f"lyr_{uid[:9]}{n:04d}-4b7c-9d1e-{uid[-12:]}",
            project_id=uid,
            platform=platform,
            defaults=defaults,
            ceiling=dict(defaults),
            kill_switch=killed,
            consented=consented,
            modified_at=now - timedelta(days=3 + n),
            modified_by=USER,
        )
    tables.insert(list(layers.values()))
    accounts = {}
    for n, (key, uid, platform, external, name, currency) in enumerate(ACCOUNTS):
        connected = projects[uid].created_at + timedelta(days=1, hours=n)
        accounts[key] = AdAccount(
            id=clock.ulid(connected, bytes([n + 1]) * 10),
            project_id=uid,
            platform=platform,
            external_id=external,
            name=name,
            currency=currency,
            timezone=projects[uid].timezone,
            connected_at=connected,
        )
    tables.insert(list(accounts.values()))
    campaigns = {}
    rng = random.Random(2481)
    for key, account_key, name, status, daily, lifetime, managed, age, pin, refuses in CAMPAIGNS:
        account = accounts[account_key]
        created = now - timedelta(days=age, hours=rng.randint(0, 23))
        pin = dict(zip(("creative", "tactical", "structural"), pin, strict=True)) if pin else None
        campaigns[key] = Campaign(
            id=f"cmp_{clock.ulid(created, rng.getrandbits(80).to_bytes(10, 'big'))}",
            project_id=account.project_id,
            ad_account=account,
            platform=account.platform,
            external_id=str(rng.randrange(10**17, 10**18)),
            name=name,
            status=status,
            objective="app_installs" if account.platform == "apple" else "conversions",
            budget_mode="CBO" if daily else "ABO",
            daily_budget_cents=daily,
            lifetime_budget_cents=lifetime,
            start_time=created,
            managed_by_layers=managed,
            authority=pin,
            ceiling=pin,
            authority_modified_at=created if pin else None,
            authority_modified_by=USER if pin else None,
            platform_refuses=refuses,
            created_at=created,
            updated_at=now - timedelta(hours=rng.randint(1, 96)),
        )
    tables.insert(list(campaigns.values()))
    _pending_and_history(now, rng, projects, layers, campaigns)


def _keys():
    tables.insert(
        [
            ApiKey(
                key_id=DEMO_KEY_ID,
                secret=settings.SANDBOX_DEMO_KEY,
                name="Demo (all ads scopes)",
                scopes=ALL_ADS_SCOPES,
            ),
            ApiKey(
                key_id=READONLY_KEY_ID,
                secret=READONLY_KEY,
                name="Read-only",
                scopes=["ads:read", "jobs:read", "projects:read"],
            ),
            ApiKey(
                key_id=REVIEWER_KEY_ID,
                secret=REVIEWER_KEY,
                name="Reviewer",
                scopes=["ads:read", "jobs:read", "projects:read", "ads:write:pending"],
            ),
        ]
    )


def _pending_and_history(now, rng, projects, layers, campaigns):
    pending, verdicts, events = [], [], []
    for n, (campaign_key, action_type, hours, status, note) in enumerate(PENDING):
        campaign = campaigns[campaign_key]
        proposal = propose(campaign, action_type, random.Random(f"seed-pending-{n}"), now)
        proposal.pop("guardrail")
        created = now - timedelta(hours=hours, minutes=rng.randint(0, 59))
        project_id = f"prj_{campaign.project_id}"
        layer = layers[(campaign.project_id, campaign.platform)]
        authority = campaign.authority or layer.defaults
        verdict = Verdict(
            id=clock.new_id("ver", created),
            project_id=project_id,
            decision="queue",
            reason="authority_axis_draft",
            axis=AXIS_OF[action_type],
            authority=authority,
            request={"method": None, "path": None, "body": {}},
            actor_type="optimizer",
            api_key_id=None,
            platform=campaign.platform,
            entity_type=proposal["entityType"],
            entity_id=proposal["entityId"],
            created_at=created,
        )
        row = PendingAction(
            id=clock.new_id("pa", created),
            project_id=campaign.project_id,
            platform=campaign.platform,
            action_type=action_type,
            entity_type=proposal["entityType"],
            entity_id=proposal["entityId"],
            entity_name=proposal["entityName"],
            current_value=proposal["currentValue"],
            new_value=proposal["newValue"],
            rationale=proposal["rationale"],
            proposed_action=proposal["proposedAction"],
            status=status,
            source="optimizer",
            created_at=created,
            expires_at=created + PENDING_TTL,
            verdict_id=verdict.id,
        )
        verdict.pending_id = row.id
        verdicts.append(verdict)
        events.append(
            _event("ads.write.queued", created, project_id, "optimizer", verdict, pendingId=row.id)
        )
        if status != "pending":
            decided = created + timedelta(hours=min(hours - 1, 6))
            row.decided_at = decided
            if note == "expired":
                row.decided_at, row.decided_by, row.decision_reason = (
                    row.expires_at,
                    {"actorType": "system"},
                    note,
                )
                events.append(
                    _event(
                        "ads.pending.expired",
                        row.expires_at,
                        project_id,
                        "system",
                        None,
                        pendingId=row.id,
                        reason="expired",
                    )
                )
            else:
                row.decided_by = {"actorType": "partner", "apiKeyId": DEMO_KEY_ID}
                approved = status != "rejected"
                row.decision_comment, row.decision_reason = (
                    (note, None) if approved else (None, note)
                )
                events.append(
                    _event(
                        f"ads.pending.{'approved' if approved else 'rejected'}",
                        decided,
                        project_id,
                        "partner_api",
                        None,
                        pendingId=row.id,
                        **({"comment": note} if approved else {"reason": note}),
                    )
                )
            if status in ("dispatched", "dispatch_failed"):
                row.dispatched_at = decided + timedelta(hours=1)
                if status == "dispatch_failed":
                    row.dispatch_failure_reason = (
                        "platform_rejected: TikTok refused the change "
                        "(error 40002: budget below the ad group minimum)"
                    )
                events.append(
                    _event(
                        "ads.pending.dispatched",
                        row.dispatched_at,
                        project_id,
                        "system",
                        None,
                        pendingId=row.id,
                        status=status,
                        dispatchFailureReason=row.dispatch_failure_reason,
                    )
                )
        pending.append(row)
    # A few partner decisions at the gate: the story's frozen and unconsented layers.
    for uid, platform, campaign_key, reason, axis, hours in (
        (NORDLICHT, "meta", "c9", "kill_switch_active", "tactical", 30),
        (BRIGHTSIDE, "meta", "c13", "partner_consent_missing", "structural", 52),
        (ACME, "tiktok", "c5", "authority_axis_off", "structural", 75),
    ):
        at = now - timedelta(hours=hours)
        campaign = campaigns[campaign_key]
        layer = layers[(uid, platform)]
        path = f"/v1/projects/prj_{uid}/ads/{platform}/campaigns/{campaign.id}/" + (
            "budget" if axis == "tactical" else "pause"
        )
        verdict = Verdict(
            id=clock.new_id("ver", at),
            project_id=f"prj_{uid}",
            decision="deny",
            reason=reason,
            axis=axis,
            authority=campaign.authority or layer.defaults,
            request={
                "method": "PATCH" if axis == "tactical" else "POST",
                "path": path,
                "body": {"dailyBudgetCents": 9000} if axis == "tactical" else {},
            },
            actor_type="partner",
            api_key_id=DEMO_KEY_ID,
            platform=platform,
            entity_type="campaign",
            entity_id=campaign.id,
            created_at=at,
        )
        verdicts.append(verdict)
        events.append(
            _event(
                "ads.write.denied",
                at,
                f"prj_{uid}",
                "partner_api",
                verdict,
                path=path,
                method=verdict.request["method"],
            )
        )
    events.append(
        _event(
            "ads.defaults.updated",
            now - timedelta(days=4),
            f"prj_{ACME}",
            "user",
            None,
            platform="meta",
            defaults=layers[(ACME, "meta")].defaults,
        )
    )
    events.append(
        _event(
            "ads.kill_switch.updated",
            now - timedelta(days=2),
            f"prj_{NORDLICHT}",
            "user",
            None,
            platform="meta",
            active=True,
        )
    )
    rows = {row.id: row for row in pending}
    for event in events:  # the history names platform and action type, as live rows do
        row = rows.get(event.data.get("pendingId"))
        if row is not None:
            event.data.setdefault("platform", row.platform)
            event.data.setdefault("actionType", row.action_type)
    tables.insert(pending)
    tables.insert(verdicts)
    tables.insert(events)


def _event(event_type, at, project_id, actor, verdict, **data):
    if verdict is not None:
        data = {
            "verdictId": verdict.id,
            "verdict": verdict.decision,
            "reason": verdict.reason,
            "axis": verdict.axis,
            "platform": verdict.platform,
            "entityType": verdict.entity_type,
            "entityId": verdict.entity_id,
            **data,
        }
    data.setdefault("actor_type", "partner" if actor == "partner_api" else actor)
    return AuditEvent(
        event_type=event_type,
        occurred_at=to_millis(at),
        project_id=project_id,
        actor=actor,
        api_key_id=DEMO_KEY_ID if actor == "partner_api" else None,
        request_id=clock.new_id("req", at) if actor == "partner_api" else None,
        data=data,
    )
