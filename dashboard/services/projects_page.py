"""The Projects page, from the mirror: each customer this person may see (the projects the
sync engine discovered, narrowed by the same grants as everywhere else), its owner and
cover, its pending count, how many expire within 24 h and how fresh its copy is, the most
urgent first. A page view reads no list from Layers.

Cold start: until the mirror has discovered the key's projects even once (a fresh install,
before the worker's first tick), the page would be empty, which reads as "you have no
customers". So the first view makes that ONE discovery itself, through the sync engine's
path (its client, its read ledger and budget, its back-off), and shows the customers with
"Pending counts: not synced yet" until the engine's first pass reads their lists. While
the engine backs off, is out of budget or has just tried, the page says the first sync is
under way instead of reading; when the read fails, the page says why.

At 200 customers most of a view was drawing the cards. What every viewer shares (each
customer's counts, freshness and the card's drawn name, counts and platforms, most urgent
first) is computed and drawn once for every discovered customer and kept in the cache
under the mirror's two stamps (services/mirror_stamp.py): a decision or a sync makes a new
key, so the next view shows it. Each view then keeps the customers this person may see and
adds what is theirs: the owner and cover (never cached: an assignment shows at once) and
whether they may assign them."""

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Max, Min, Q
from django.template import Context
from django.template.loader import get_template
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe

from dashboard.layers import LayersError
from dashboard.models import MirrorProject, SyncFeed
from dashboard.models.mirror import MirrorAction, SyncState
from dashboard.services import access
from dashboard.services.inbox_sync import Freshness
from dashboard.services.mirror import mirror_projects_refresh
from dashboard.services.mirror_stamp import ROWS, SYNC, mirror_stamps, stamp_cached, stamp_key
from dashboard.services.ownership import project_cards
from dashboard.services.projects import project_list
from dashboard.services.sync import budget
from dashboard.services.sync.tick import DISCOVERY

SOON = timedelta(hours=24)
NEVER = Freshness(lists=0, never=0, oldest=None, newest=None, failing=0)  # no list yet


@dataclass(frozen=True)
class CustomerLine:
    """One customer on the Projects page, as every viewer sees it."""

    project_id: str
    name: str
    platforms: tuple
    pending: int
    expiring: int  # within 24 h
    soonest: datetime | None
    external_id: str = ""
    timezone: str = ""
    details_read: bool = False  # its platforms were read (else "not read yet")
    # The card drawn (projects/_line.html) in three parts, around what its freshness decides:
    head: str = ""  # its name, up to its counts
    counts: str = ""  # pending, expiring, soonest (shown once its lists were synced)
    tail: str = ""  # its reference, time zone and platforms
    owner_url: str = ""  # where an admin assigns its owner

    @property
    def id(self) -> str:
        return self.project_id


@dataclass(frozen=True)
class ProjectsPage:
    cards: tuple  # (ProjectCard, CustomerLine, Freshness), the most urgent first
    unowned: int
    first_sync: str = ""  # before the first discovery: what is going on, in a sentence


def projects_discovered() -> bool:
    """Whether the mirror has ever listed the key's projects (a webhook's stub does not
    count: it has no name and was never seen in GET /v1/projects)."""
    return MirrorProject.objects.filter(seen_at__isnull=False).exists()


def projects_visible(*, user) -> list:
    """The projects this person may see, in name order, each with an id and a name: from the
    mirror once it has discovered them (no read of Layers), else, on a fresh install, the
    cached upstream list (which may raise LayersError)."""
    if not projects_discovered():
        return project_list(user=user)
    visible = access.project_ids_visible(user=user)
    found = MirrorProject.objects.filter(seen_at__isnull=False)
    if visible is not None:
        found = found.filter(project_id__in=list(visible))
    projects = list(found)
    for project in projects:
        project.name = project.name or project.project_id
    return sorted(projects, key=lambda p: p.name.lower())


def projects_first_discovery(*, now=None) -> str:
    """The cold start's one read of GET /v1/projects, through the sync engine's path.
    Only one page view (or tick) claims it per SYNC_DISCOVERY_SECONDS, never while the
    engine backs off or has no reads left. Answers "" when it read the projects, else a
    sentence for the page."""
    now = now or timezone.now()
    if budget.backoff_until(now) is not None or budget.reads_left(now) <= 0:
        return (
            "The first sync with Layers is under way (it is waiting for the key's read "
            "budget); your customers appear here as soon as it lists them."
        )
    SyncFeed.objects.get_or_create(name=DISCOVERY)
    recent = now - timedelta(seconds=settings.SYNC_DISCOVERY_SECONDS)
    claimed = (
        SyncFeed.objects.filter(name=DISCOVERY)
        .filter(Q(read_at__isnull=True) | Q(read_at__lt=recent))
        .update(read_at=now)
    )
    if not claimed:  # the engine (or another page view) has just read, or is reading
        return (
            "The first sync with Layers is under way; your customers appear here as soon "
            "as it lists them."
        )
    try:
        mirror_projects_refresh(now=now, details=False)
    except LayersError as error:
        budget.backoff_note(error, now)
        SyncFeed.objects.filter(name=DISCOVERY).update(last_error=error.message[:1000])
        return (
            f"Your customers could not be listed from Layers yet: {error.message} "
            "The sync engine tries again on its own; this page shows them once it succeeds."
        )
    SyncFeed.objects.filter(name=DISCOVERY).update(last_error="")
    return ""


def projects_page_get(*, user) -> ProjectsPage:
    """Every customer this person may see, from the mirror, the most urgent first."""
    first_sync = "" if projects_discovered() else projects_first_discovery()
    visible = access.project_ids_visible(user=user)
    stamps = mirror_stamps()  # first: a write after it makes a new key
    lines = [
        line for line in projects_lines(stamps) if visible is None or line.project_id in visible
    ]
    fresh = projects_freshness(stamps)
    cards = project_cards(user=user, projects=lines)
    return ProjectsPage(
        cards=tuple(
            (card, line, fresh.get(line.project_id, NEVER))
            for card, line in zip(cards, lines, strict=True)
        ),
        unowned=sum(1 for card in cards if card.owners.owner is None),
        first_sync=first_sync,
    )


def projects_lines(stamps: dict) -> tuple[CustomerLine, ...]:
    """Every discovered customer, drawn, the most urgent first: one computation for every
    viewer until the mirror's rows change (or INBOX_CACHE_SECONDS: "expiring within 24 h"
    and "soonest in" follow the clock)."""
    return stamp_cached(stamp_key(stamps.get(ROWS), "projects-lines"), _lines_drawn)


def projects_freshness(stamps: dict) -> dict[str, Freshness]:
    """project_id -> how fresh its lists are, for every customer (one query), kept until
    a list's sync state changes: the reconciler changes one every few seconds, so this is
    kept apart from the drawn lines, which would otherwise be drawn again as often."""
    return stamp_cached(stamp_key(stamps.get(SYNC), "projects-freshness"), _freshness_read)


def _lines_drawn() -> tuple[CustomerLine, ...]:
    # 200 cards: one Context for them all, the inbox's address reversed once; each drawn
    # card is cut at the markers around its counts (escaped names cannot contain "<!--").
    template = get_template("projects/_line.html").template
    context = Context({"inbox": reverse("inbox")}, autoescape=True)
    drawn = []
    for line in projects_urgency():
        with context.push(line=line):
            html = template.render(context).strip()
        head, rest = html.split("<!--counts-->")
        counts, tail = rest.split("<!--/counts-->")
        drawn.append(
            replace(
                line,
                head=mark_safe(head),
                counts=mark_safe(counts),
                tail=mark_safe(tail),
                owner_url=reverse("project-owner", args=[line.project_id]),
            )
        )
    return tuple(drawn)


def _freshness_read() -> dict[str, Freshness]:
    return {
        s["project_id"]: Freshness(
            lists=s["lists"],
            never=s["never"],
            oldest=s["oldest"],
            newest=s["newest"],
            failing=s["failing"],
            last_error=(s["last_error"] or "")[:300],
            last_error_at=s["last_error_at"],
        )
        for s in SyncState.objects.values("project_id")
        .annotate(
            lists=Count("pk"),
            never=Count("pk", filter=Q(last_full_refresh_at__isnull=True)),
            oldest=Min("last_full_refresh_at"),
            newest=Max("last_full_refresh_at"),
            failing=Count("pk", filter=Q(consecutive_errors__gt=0)),
            last_error=Max("last_error"),
            last_error_at=Max("last_error_at"),
        )
        .order_by()
    }


def projects_urgency() -> list[CustomerLine]:
    """Every discovered customer, most urgent first: the most actions expiring within 24 h,
    then the soonest expiry, then the most pending (three queries for them all)."""
    projects = MirrorProject.objects.filter(seen_at__isnull=False)
    soon = timezone.now() + SOON
    counts = {
        c["project_id"]: c
        for c in MirrorAction.objects.pending()
        .filter(project_id__in=projects.values("project_id"))
        .values("project_id")
        .annotate(
            pending=Count("pk"),
            expiring=Count("pk", filter=Q(expires_at__lte=soon)),
            soonest=Min("expires_at"),
        )
        .order_by()
    }
    fields = ("project_id", "name", "platforms", "customer_external_id", "timezone")
    lines = []
    for project_id, name, platforms, external_id, zone, details_read_at in projects.values_list(
        *fields, "details_read_at"
    ):
        count = counts.get(project_id, {})
        lines.append(
            CustomerLine(
                project_id=project_id,
                name=name or project_id,
                platforms=tuple(platforms or ()),
                pending=count.get("pending", 0),
                expiring=count.get("expiring", 0),
                soonest=count.get("soonest"),
                external_id=external_id,
                timezone=zone,
                details_read=details_read_at is not None,
            )
        )
    far = timezone.now() + timedelta(days=3650)
    return sorted(
        lines,
        key=lambda line: (-line.expiring, line.soonest or far, -line.pending, line.name.lower()),
    )
