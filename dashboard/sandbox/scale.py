"""Partner scale: N generated customers beside the demo story, for the inbox, the sync engine
and the bench (`manage.py sandbox_seed --customers N`, control `customers {"count": N}`).

Customer n (1, 2, …) is a project with Meta, TikTok and Apple layers, one ad account per
platform in the customer's currency, two to four campaigns per platform (about one in six
on a lifetime budget with an end date) and 10–40 pending optimizer actions spread over the
platforms, about 30 on average (so about 6,000 for 200 customers). Each pending action has
the verdict that queued it and its `ads.write.queued` audit row, and a few customers also
have decided history (approved and dispatched, rejected, expired).

* Currencies: most customers are in USD, some in EUR, GBP, JPY and KRW (every currency
  appears from five customers on). Amounts are integers in the currency's minor unit, sized
  as a business in that currency would set them: a JPY budget of 5000 is ¥5,000.
* Times are relative to the sandbox clock: `createdAt` spreads over the last seven days, so
  about one in seven expires within 24 h; action types and budget moves follow a realistic
  mix (budgets most often; Apple has no ads, so no ad or creative actions there).
* Deterministic: customer n always has the same ids, names and numbers, so seeding again
  adds only the customers that are missing. Everything is written with `bulk_create` in
  one transaction: 200 customers, about 6,000 pending actions and 22,000 rows in all, took
  7 s on this project's 2-core machine (about 8 s of CPU when the machine was busy).

The demo story (seed.py) stays small and readable; nothing here touches its tables."""

import random
import uuid
from datetime import timedelta

from django.db import transaction

from . import clock
from .changes import AXIS_OF, PENDING_TTL
from .models import AdAccount, AuditEvent, Campaign, Layer, PendingAction, Project, Verdict
from .proposals import propose_within_guardrails
from .records import to_millis
from .seed_data import DEMO_KEY_ID

PLATFORMS = ("meta", "tiktok", "apple")
PLATFORM_WEIGHTS = (5, 3, 2)  # where the optimizer finds most work
# Every currency shows up among the first five customers.
CURRENCIES = [
    "USD", "EUR", "JPY", "GBP", "KRW", "USD", "USD", "EUR", "USD", "USD",
    "GBP", "USD", "USD", "KRW", "USD", "EUR", "USD", "JPY", "USD", "USD",
]  # fmt: skip
# Minor units worth about one US dollar, and the step budgets are rounded to.
PER_DOLLAR = {"USD": 100, "EUR": 92, "GBP": 79, "JPY": 150, "KRW": 1350}
STEP = {"USD": 100, "EUR": 100, "GBP": 100, "JPY": 100, "KRW": 1000}
REGIONS = {  # currency → (timezone, language) choices
    "USD": [("America/New_York", "en"), ("America/Chicago", "en"), ("America/Los_Angeles", "en")],
    "EUR": [("Europe/Berlin", "de"), ("Europe/Paris", "fr"), ("Europe/Madrid", "es")],
    "GBP": [("Europe/London", "en")],
    "JPY": [("Asia/Tokyo", "ja")],
    "KRW": [("Asia/Seoul", "ko")],
}
FIRST_WORDS = {
    "USD": ["Bluebird", "Kestrel", "Harbor", "Juniper", "Copper", "Summit", "Lumen", "Redwood"],
    "EUR": ["Nordwind", "Lumière", "Sonnenhof", "Brisa", "Rivage", "Alpenrose", "Solana"],
    "GBP": ["Thistle", "Ashford", "Bramble", "Kingsley", "Wren", "Harrow"],
    "JPY": ["Sakura", "Hoshi", "Kaze", "Midori", "Tsuki", "Hikari"],
    "KRW": ["Hanbit", "Saebom", "Haneul", "Bada", "Nuri", "Sora"],
}
SECOND_WORDS = [
    "Coffee Roasters", "Cycles", "Outfitters", "Skincare", "Pet Supply", "Fitness", "Games",
    "Home Goods", "Eyewear", "Tea House", "Books", "Audio", "Kitchenware", "Apparel", "Bakery",
]  # fmt: skip
CAMPAIGN_NAMES = [
    "Prospecting — Broad", "Retargeting — Site Visitors", "Lookalike 1% — Purchasers",
    "Spring Sale", "Always-on Brand", "New Arrivals", "App Installs — Tier 1",
    "Catalog Sales", "Holiday Gift Guide", "Video Views — Launch",
]  # fmt: skip
ACTION_WEIGHTS = {  # how often the optimizer proposes each kind of change
    "update_budget": 30,
    "pause_ad": 15,
    "pause_adset": 10,
    "push_creative": 10,
    "replace_creative": 10,
    "prune_creative": 5,
    "update_targeting": 10,
    "update_schedule": 10,
}
NO_ADS = {"pause_ad", "push_creative", "replace_creative", "prune_creative"}  # Apple (D36)
USER = {"actorType": "user", "actorOrganizationId": None}


def project_uuid(n: int) -> str:
    return f"5ca1e000-0000-4000-8000-{n:012d}"


def seed_customers(count: int) -> dict:
    """Adds customers 1..count that are not there yet; returns what it made."""
    wanted = {project_uuid(n): n for n in range(1, count + 1)}
    have = set(Project.objects.filter(uuid__in=wanted).values_list("uuid", flat=True))
    now = clock.now()
    batch = _Batch()
    for uid, n in wanted.items():
        if uid not in have:
            _customer(batch, n, now)
    with transaction.atomic():
        batch.save()
    return {
        "customers": len(wanted) - len(have),
        "pendingActions": sum(1 for p in batch.pending if p.status == "pending"),
    }


class _Batch:
    def __init__(self):
        self.projects, self.layers, self.accounts, self.campaigns = [], [], [], []
        self.pending, self.verdicts, self.events = [], [], []

    def save(self):
        for model, rows in (
            (Project, self.projects),
            (Layer, self.layers),
            (AdAccount, self.accounts),
            (Campaign, self.campaigns),
            (PendingAction, self.pending),
            (Verdict, self.verdicts),
            (AuditEvent, self.events),
        ):
            model.objects.bulk_create(rows, batch_size=500)


def _ulid(at, rng) -> str:
    return clock.ulid(at, rng.getrandbits(80).to_bytes(10, "big"))


def _customer(batch: _Batch, n: int, now) -> None:
    rng = random.Random(f"customer-{n}")
    currency = CURRENCIES[(n - 1) % len(CURRENCIES)]
    timezone, language = rng.choice(REGIONS[currency])
    name = _name(n, currency)
    created = now - timedelta(days=rng.randint(60, 720))
    project = Project(
        uuid=project_uuid(n),
        name=name,
        customer_external_id=f"scale-{n:04d}",
        timezone=timezone,
        primary_language=language,
        owner_email=f"ads@customer-{n:04d}.example",
        brand_context={"voice": f"{name}: friendly and direct."},
        created_at=created,
        updated_at=created + timedelta(days=1),
    )
    batch.projects.append(project)
    by_platform = {}
    for platform in PLATFORMS:
        layer = _layer(project, platform, rng, now)
        account = AdAccount(
            id=_ulid(created, rng),
            project=project,
            platform=platform,
            external_id=_external_id(platform, rng),
            name=f"{name} — {platform.capitalize()}",
            currency=currency,
            timezone=timezone,
            connected_at=created + timedelta(days=1),
        )
        campaigns = [_campaign(account, k, rng, now) for k in range(rng.randint(2, 4))]
        batch.layers.append(layer)
        batch.accounts.append(account)
        batch.campaigns += campaigns
        by_platform[platform] = (layer, [c for c in campaigns if c.status == "active"])
    for _ in range(round(rng.triangular(10, 40, 40))):
        _pending(batch, project, by_platform, rng, now)
    for _ in range(rng.choice([0, 0, 1, 2, 3])):
        _history(batch, project, by_platform, rng, now)


def _name(n: int, currency: str) -> str:
    """A unique, stable name: the m-th customer in a currency gets the m-th of that
    currency's word pairs (shuffled once), then pairs with a number."""
    cycles, rest = divmod(n - 1, len(CURRENCIES))
    m = cycles * CURRENCIES.count(currency) + CURRENCIES[:rest].count(currency)
    pairs = [f"{a} {b}" for a in FIRST_WORDS[currency] for b in SECOND_WORDS]
    random.Random(currency).shuffle(pairs)
    name = pairs[m % len(pairs)]
    return name if m < len(pairs) else f"{name} {m // len(pairs) + 1}"


def _layer(project, platform, rng, now) -> Layer:
    defaults = {"creative": "draft", "tactical": "draft", "structural": "draft"}
    if rng.random() < 0.15:
        defaults["creative"] = "auto"
    if rng.random() < 0.15:
        defaults["structural"] = "off"
    return Layer(
        id=f"lyr_{uuid.UUID(int=rng.getrandbits(128), version=4)}",
        project=project,
        platform=platform,
        defaults=defaults,
        ceiling=dict(defaults),
        kill_switch=rng.random() < 0.02,
        consented=rng.random() >= 0.03,
        modified_at=now - timedelta(days=rng.randint(3, 40)),
        modified_by=USER,
    )


def _external_id(platform, rng) -> str:
    number = rng.randrange(10**14, 10**15)
    return {"meta": f"act_{number}", "tiktok": f"7{number}{rng.randrange(1000)}", "apple": ""}[
        platform
    ] or f"org-{number % 10**7}"


def _money(dollars: float, currency: str) -> int:
    step = STEP[currency]
    return max(step, round(dollars * PER_DOLLAR[currency] / step) * step)


def _campaign(account, k, rng, now) -> Campaign:
    created = now - timedelta(days=rng.randint(10, 200), hours=rng.randint(0, 23))
    lifetime = k > 0 and rng.random() < 0.17
    daily = _money(rng.choice([20, 30, 40, 50, 75, 100, 150, 250]), account.currency)
    return Campaign(
        id=f"cmp_{_ulid(created, rng)}",
        project=account.project,
        ad_account=account,
        platform=account.platform,
        external_id=str(rng.randrange(10**17, 10**18)),
        name=f"{CAMPAIGN_NAMES[(k * 3 + rng.randrange(10)) % 10]}",
        status="paused" if k > 0 and rng.random() < 0.12 else "active",
        objective="app_installs" if account.platform == "apple" else "conversions",
        budget_mode="ABO" if lifetime else "CBO",
        daily_budget_cents=None if lifetime else daily,
        lifetime_budget_cents=daily * 45 if lifetime else None,
        start_time=created,
        end_time=now + timedelta(days=rng.randint(10, 60)) if lifetime else None,
        created_at=created,
        updated_at=now - timedelta(hours=rng.randint(1, 96)),
    )


def _choose(by_platform, rng):
    """A (layer, campaign, action type) the optimizer would queue: a draft axis on a live
    campaign of a layer the customer has not frozen. None when the customer has none."""
    platforms = [p for p in PLATFORMS if by_platform[p][1] and not by_platform[p][0].kill_switch]
    for _ in range(10):
        if not platforms:
            return None
        platform = rng.choices(
            platforms, [PLATFORM_WEIGHTS[PLATFORMS.index(p)] for p in platforms]
        )[0]
        layer, campaigns = by_platform[platform]
        actions = [
            a
            for a in ACTION_WEIGHTS
            if layer.defaults[AXIS_OF[a]] == "draft" and not (platform == "apple" and a in NO_ADS)
        ]
        if actions:
            action = rng.choices(actions, [ACTION_WEIGHTS[a] for a in actions])[0]
            return layer, rng.choice(campaigns), action
    return None


def _pending(batch, project, by_platform, rng, now, created=None, status="pending"):
    chosen = _choose(by_platform, rng)
    if chosen is None:
        return None
    layer, campaign, action = chosen
    created = created or now - timedelta(
        seconds=rng.uniform(120, PENDING_TTL.total_seconds() - 600)
    )
    proposal = propose_within_guardrails(campaign, action, rng, now)
    if proposal is None:  # never: seeded campaigns are at least ten days old
        return None
    verdict = Verdict(
        id=f"ver_{_ulid(created, rng)}",
        project_id=project.public_id,
        decision="queue",
        reason="authority_axis_draft",
        axis=AXIS_OF[action],
        authority=dict(layer.defaults),
        request={"method": None, "path": None, "body": {}},
        actor_type="optimizer",
        api_key_id=None,
        platform=layer.platform,
        entity_type=proposal["entityType"],
        entity_id=proposal["entityId"],
        created_at=created,
    )
    row = PendingAction(
        id=f"pa_{_ulid(created, rng)}",
        project=project,
        platform=layer.platform,
        action_type=action,
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
    batch.verdicts.append(verdict)
    batch.pending.append(row)
    batch.events.append(
        _event(
            "ads.write.queued",
            created,
            project,
            "optimizer",
            pendingId=row.id,
            verdictId=verdict.id,
            verdict="queue",
            reason=verdict.reason,
            axis=verdict.axis,
            platform=row.platform,
            actionType=action,
            entityType=row.entity_type,
            entityId=row.entity_id,
        )
    )
    return row


def _history(batch, project, by_platform, rng, now):
    """One decided action from the last fortnight: dispatched, rejected or expired."""
    outcome = rng.choice(["dispatched", "rejected", "expired"])
    hours = rng.randint(7 * 24 + 2, 14 * 24) if outcome == "expired" else rng.randint(24, 160)
    created = now - timedelta(hours=hours)
    row = _pending(batch, project, by_platform, rng, now, created, "rejected")
    if row is None:
        return
    common = {"pendingId": row.id, "platform": row.platform, "actionType": row.action_type}
    if outcome == "expired":
        row.decided_at, row.decided_by, row.decision_reason = (
            row.expires_at,
            {"actorType": "system"},
            "expired",
        )
        batch.events.append(
            _event(
                "ads.pending.expired", row.expires_at, project, "system", **common, reason="expired"
            )
        )
        return
    row.decided_at = created + timedelta(hours=rng.randint(1, 20))
    row.decided_by = {"actorType": "partner", "apiKeyId": DEMO_KEY_ID}
    if outcome == "rejected":
        row.decision_reason = rng.choice(
            ["Customer wants to keep spend flat this month.", "Creative not approved by brand."]
        )
        batch.events.append(
            _event(
                "ads.pending.rejected",
                row.decided_at,
                project,
                "partner_api",
                **common,
                reason=row.decision_reason,
            )
        )
        return
    row.status, row.dispatched_at = "dispatched", row.decided_at + timedelta(hours=1)
    batch.events += [
        _event(
            "ads.pending.approved", row.decided_at, project, "partner_api", **common, comment=None
        ),
        _event(
            "ads.pending.dispatched",
            row.dispatched_at,
            project,
            "system",
            **common,
            status="dispatched",
            verdictId=row.verdict_id,
            dispatchFailureReason=None,
        ),
    ]


def _event(event_type, at, project, actor, **data) -> AuditEvent:
    data.setdefault("actor_type", "partner" if actor == "partner_api" else actor)
    partner = actor == "partner_api"
    return AuditEvent(
        event_type=event_type,
        occurred_at=to_millis(at),
        project_id=project.public_id,
        api_key_id=DEMO_KEY_ID if partner else None,
        request_id=clock.new_id("req", at) if partner else None,
        actor=actor,
        data=data,
    )
