"""The demo story: one partner org (Northwind Partners) running ads for three customers.

* Acme Coffee — Meta, TikTok and Apple connected, consented, a busy approval queue.
* Nordlicht Outdoor — the customer froze Meta writes (layer kill switch on).
* Brightside Games — Meta connected but the customer has not consented to partner writes;
  its App Store accounts are in pounds, yen and won (yen and won have no minor unit).

Times are relative to the sandbox clock at seeding, so "expires within 24 h" stays true."""

import random
from datetime import timedelta

from django.conf import settings

from . import clock
from .engine import AXIS_OF, PENDING_TTL, propose
from .models import AdAccount, ApiKey, AuditEvent, Campaign, Layer, PendingAction, Project, Verdict
from .records import to_millis

ALL_ADS_SCOPES = [
    "ads:read",
    "ads:write:connect",
    "ads:write:campaigns",
    "ads:write:budgets",
    "ads:write:lifecycle",
    "ads:write:policy",
    "ads:write:optimizer_trigger",
    "ads:write:pending",
    "jobs:read",
    "projects:read",
    "metrics:read",
]
READONLY_KEY = "lp_test_READONLY00000002_sandbox-readonly-secret-not-a-real-key-0000"
REVIEWER_KEY = "lp_test_REVIEWER00000003_sandbox-reviewer-secret-not-a-real-key-0000"
DEMO_KEY_ID = "key_00000000-0000-4000-8000-000000000001"
READONLY_KEY_ID = "key_00000000-0000-4000-8000-000000000002"
REVIEWER_KEY_ID = "key_00000000-0000-4000-8000-000000000003"
ACME, NORDLICHT, BRIGHTSIDE = (f"7d1c5e0a-000{n}-4c3b-9a51-00000000000{n}" for n in (1, 2, 3))
USER = {"actorType": "user", "actorOrganizationId": None}

PROJECTS = [  # uuid, name, external id, timezone, language, owner, age in days
    (
        ACME,
        "Acme Coffee",
        "acme-coffee",
        "America/New_York",
        "en",
        "maya.chen@acmecoffee.example",
        120,
    ),
    (
        NORDLICHT,
        "Nordlicht Outdoor",
        "nordlicht",
        "Europe/Berlin",
        "de",
        "jonas.keller@nordlicht.example",
        90,
    ),
    (
        BRIGHTSIDE,
        "Brightside Games",
        "brightside",
        "Europe/London",
        "en",
        "priya.shah@brightside.example",
        45,
    ),
]
LAYERS = [  # project, platform, (creative, tactical, structural), kill switch, consented
    (ACME, "meta", ("auto", "draft", "draft"), False, True),
    (ACME, "tiktok", ("draft", "draft", "off"), False, True),
    (ACME, "apple", ("off", "draft", "draft"), False, True),
    (NORDLICHT, "meta", ("draft", "draft", "draft"), True, True),
    (NORDLICHT, "tiktok", ("draft", "auto", "draft"), False, True),
    (BRIGHTSIDE, "apple", ("draft", "draft", "draft"), False, True),
    (BRIGHTSIDE, "meta", ("draft", "draft", "draft"), False, False),
]
ACCOUNTS = [  # key, project, platform, external id, name, currency
    ("acme-meta", ACME, "meta", "act_104729384756012", "Acme Coffee — US", "USD"),
    ("acme-tiktok", ACME, "tiktok", "7234567890123456789", "Acme Coffee — TikTok US", "USD"),
    ("acme-apple", ACME, "apple", "org-4827193", "Acme Coffee App", "USD"),
    ("nord-meta", NORDLICHT, "meta", "act_209384756102938", "Nordlicht Outdoor — DACH", "EUR"),
    (
        "nord-tiktok",
        NORDLICHT,
        "tiktok",
        "7345678901234567890",
        "Nordlicht Outdoor — TikTok EU",
        "EUR",
    ),
    ("bright-apple", BRIGHTSIDE, "apple", "org-5938204", "Brightside Games — App Store UK", "GBP"),
    ("bright-meta", BRIGHTSIDE, "meta", "act_301928374650192", "Brightside Games — UK", "GBP"),
    (
        "bright-apple-jp",
        BRIGHTSIDE,
        "apple",
        "org-5938311",
        "Brightside Games — App Store JP",
        "JPY",
    ),
    (
        "bright-apple-kr",
        BRIGHTSIDE,
        "apple",
        "org-5938312",
        "Brightside Games — App Store KR",
        "KRW",
    ),
]
CAMPAIGNS = [  # key, account, name, status, daily, lifetime, managed, age days, pin, refuses
    ("c1", "acme-meta", "Q3 Prospecting — Cold Brew", "active", 5000, None, True, 40, None, False),
    (
        "c2",
        "acme-meta",
        "Retargeting — Cart Abandoners",
        "active",
        2500,
        None,
        True,
        60,
        ("auto", "auto", "draft"),
        False,
    ),
    ("c3", "acme-meta", "Holiday Gift Cards 2026", "paused", None, 150000, True, 20, None, False),
    (
        "c4",
        "acme-meta",
        "Brand Awareness (created in Ads Manager)",
        "active",
        3000,
        None,
        False,
        300,
        None,
        False,
    ),
    ("c5", "acme-tiktok", "Spark Ads — Barista Tips", "active", 4000, None, True, 30, None, False),
    ("c6", "acme-tiktok", "Launch: Oat Milk Latte", "active", 6000, None, True, 12, None, True),
    ("c7", "acme-apple", "Search — Brand Keywords", "active", 2000, None, True, 75, None, False),
    ("c8", "acme-apple", "Search — Competitor Terms", "deleted", 1500, None, True, 50, None, False),
    (
        "c9",
        "nord-meta",
        "Herbst Kollektion — Prospecting",
        "active",
        8000,
        None,
        True,
        35,
        None,
        False,
    ),
    ("c10", "nord-meta", "Winterjacken — Retargeting", "paused", 3500, None, True, 80, None, False),
    (
        "c11",
        "nord-tiktok",
        "Trail Running UGC (agency)",
        "active",
        4500,
        None,
        False,
        140,
        None,
        False,
    ),
    (
        "c12",
        "bright-apple",
        "Puzzle Quest — UK Installs",
        "active",
        7000,
        None,
        True,
        25,
        ("off", "draft", "off"),
        True,
    ),
    (
        "c13",
        "bright-meta",
        "Puzzle Quest — Lookalike 1%",
        "active",
        5500,
        None,
        True,
        22,
        None,
        False,
    ),
    (
        "c14",
        "bright-meta",
        "Brand Launch (imported)",
        "paused",
        2000,
        None,
        False,
        200,
        None,
        False,
    ),
    # Budgets in yen and won are whole units: 5000 is ¥5,000 a day, 300000 is ₩300,000.
    (
        "c15",
        "bright-apple-jp",
        "Puzzle Quest — JP Installs",
        "active",
        5000,
        None,
        True,
        18,
        None,
        False,
    ),
    (
        "c16",
        "bright-apple-jp",
        "Puzzle Quest — JP Launch Week",
        "paused",
        None,
        300000,
        True,
        10,
        None,
        False,
    ),
    (
        "c17",
        "bright-apple-kr",
        "Puzzle Quest — KR Installs",
        "active",
        300000,
        None,
        True,
        16,
        None,
        False,
    ),
]
PENDING = [  # campaign, action type, hours ago, status, decision note
    ("c1", "update_budget", 3, "pending", None),
    ("c1", "pause_ad", 20, "pending", None),
    ("c2", "push_creative", 30, "pending", None),
    ("c1", "replace_creative", 158, "pending", None),
    ("c2", "update_targeting", 50, "pending", None),
    ("c5", "update_budget", 5, "pending", None),
    ("c5", "prune_creative", 150, "pending", None),
    ("c6", "update_schedule", 70, "pending", None),
    ("c7", "update_budget", 10, "pending", None),
    ("c7", "pause_adset", 100, "pending", None),
    ("c9", "update_budget", 26, "pending", None),
    ("c10", "pause_adset", 48, "pending", None),
    ("c12", "update_targeting", 8, "pending", None),
    ("c12", "update_schedule", 162, "pending", None),
    ("c13", "push_creative", 2, "pending", None),
    ("c2", "update_budget", 96, "dispatched", "Looks right, go."),
    ("c1", "pause_adset", 80, "rejected", "Keep it running through the promo weekend."),
    ("c6", "update_budget", 60, "dispatch_failed", None),
    ("c9", "replace_creative", 200, "rejected", "expired"),
    ("c12", "replace_creative", 14, "approved", "Approved with the new trailer."),
    ("c13", "pause_ad", 40, "dispatched", None),
    ("c15", "update_budget", 4, "pending", None),
    ("c17", "update_budget", 7, "pending", None),
    ("c12", "update_budget", 9, "pending", None),
]


def seed() -> None:
    now = clock.now()
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
    Project.objects.bulk_create(projects.values())
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
    Layer.objects.bulk_create(layers.values())
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
    AdAccount.objects.bulk_create(accounts.values())
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
    Campaign.objects.bulk_create(campaigns.values())
    _pending_and_history(now, rng, projects, layers, campaigns)


def _keys():
    ApiKey.objects.bulk_create(
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
    PendingAction.objects.bulk_create(pending)
    Verdict.objects.bulk_create(verdicts)
    AuditEvent.objects.bulk_create(events)


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
